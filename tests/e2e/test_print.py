"""The A4 print sheet of a 2000-card batch, printed to PDF by Chromium: 200 pages, every card whole.

The demo's 紫荆花 batch of 2000 cards was made through the service layer by `flask seed-demo`.
"""

import time

import pypdfium2
from sqlalchemy import select

from app.models import Card, CardBatch, Community

from .conftest import log_in
from .media import decode

# What one of the cards may overflow: the card itself, and each block on it.
OVERFLOWS = """
() => {
  const bad = [];
  for (const card of document.querySelectorAll('article.card')) {
    const box = card.getBoundingClientRect();
    const inside = (r) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5
      && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
    for (const el of [card, ...card.querySelectorAll('*')]) {
      const r = el.getBoundingClientRect();
      const clipped = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
      if ((el !== card && r.width && !inside(r)) || (el.clientHeight && clipped)) {
        bad.push(card.querySelector('.serial').textContent + ' ' + el.tagName + '.' + el.className);
      }
    }
  }
  return bad;
}
"""


def test_a_2000_card_batch_prints_as_200_a4_pages_that_scan(server, new_context, tmp_path):
    with server.db() as session:
        batch_id, size = session.execute(
            select(CardBatch.id, CardBatch.size)
            .join(Community, CardBatch.community_id == Community.id)
            .where(Community.slug == "zijinghua")
            .order_by(CardBatch.size.desc())
        ).first()
        assert size == 2000
        tokens = dict(
            session.execute(select(Card.serial, Card.token).where(Card.batch_id == batch_id)).all()
        )
    page = new_context(phone=False, viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, server, "zijinghua")

    started = time.perf_counter()
    page.goto(f"{server.url}/admin/batches/{batch_id}/print?first=1&last=200", timeout=120_000)
    loaded = time.perf_counter()
    assert page.locator("section.sheet").count() == 200
    assert page.locator("article.card").count() == 2000

    page.emulate_media(media="print")
    assert page.evaluate(OVERFLOWS) == []
    pdf = tmp_path / "sheet.pdf"
    page.pdf(path=pdf, prefer_css_page_size=True, print_background=True)
    printed = time.perf_counter()
    print(
        f"\n2000-card print sheet: page loaded in {loaded - started:.1f} s, "
        f"PDF of {pdf.stat().st_size / 1e6:.1f} MB made in {printed - loaded:.1f} s"
    )

    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 200
    for number in (0, 137, 199):
        sheet = document[number]
        width, height = sheet.get_size()
        assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4, in mm
        picture = sheet.render(scale=300 / 72).to_pil()  # 300 dpi, as a printer would
        found = decode(picture)
        serials = page.locator("section.sheet").nth(number).locator(".serial").all_inner_texts()
        assert len(found) == 10
        assert sorted(found) == sorted(
            f"{server.url}/C/{tokens[serial]}".upper() for serial in serials
        )
    document.close()
