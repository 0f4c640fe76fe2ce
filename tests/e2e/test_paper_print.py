"""Paper printed from the browser: the 爱心存折 (A5 and A4), a card's statement (A4), a shop's
window sticker (A6) and the notice-board poster (A4), each with the longest data the app holds
(`longest.py`) and with the demo's fullest.

Chromium prints with the page's own CSS (`@page size`); every page of the PDF must be the
paper's size, nothing on the sheet may be clipped, the sticker and the poster are one sheet
each, and the last page of the passbook and the statement carries the totals. The first page of
each is rendered to PNG; the demo's go into LINLI_SCREENSHOTS when it is set (`make screenshots`:
docs/screenshots/paper-*.png).
"""

import pypdfium2
import pytest
from sqlalchemy import func, select

from app.models import Card, Community, Merchant, PointsEntry, Redemption, User

from .conftest import log_in

POINTS = {"a4": (595, 842), "a5": (420, 595), "a6": (298, 420)}

# Elements of the sheet whose content does not fit their box (clipped or hidden overflow).
CLIPPED = """
() => [...document.querySelectorAll('.sheet, .sheet *')]
  .filter(e => {
    const style = getComputedStyle(e);
    const sheet = e === document.querySelector('.sheet');
    if (style.overflow === 'visible' && !sheet && !e.matches('td, th')) return false;
    return e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1;
  })
  .map(e => e.tagName + '.' + e.className)
"""


def printed(page, url, paper, tmp_path, folder, name, *, fixed_sheet=False):
    """Print `url` to PDF; check every page is `paper` and nothing is clipped; keep PNGs."""
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    page.emulate_media(media="print")
    clipped = page.evaluate(CLIPPED)
    path = tmp_path / f"{name}.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)
    pdf = pypdfium2.PdfDocument(str(path))
    for number in range(len(pdf)):
        image = pdf[number].render(scale=110 / 72).to_pil()
        image.save(tmp_path / f"{name}-{number + 1}.png")
        if number == 0 and "longest" not in name:  # the demo's, as the README shows them
            image.save(folder / f"{name}.png")
    if not fixed_sheet:  # a sheet that flows onto more pages is as tall as it needs
        clipped = [e for e in clipped if not e.startswith("ARTICLE.")]
    assert clipped == [], f"{url}: clipped {clipped}"
    for number in range(len(pdf)):
        width, height = pdf[number].get_size()
        assert (round(width), round(height)) == POINTS[paper], f"{url}: page {number + 1}"
    return pdf


def text_of(pdf, number) -> str:
    return pdf[number].get_textpage().get_text_range()


def desk(new_context):
    return new_context(phone=False, viewport={"width": 1366, "height": 900}).new_page()


@pytest.mark.parametrize("paper", ["a5", "a4"])
def test_the_longest_residents_passbook_prints_on_a5_and_a4(
    server, longest, new_context, tmp_path, folder, paper
):
    with server.db() as session:
        resident = session.scalar(select(User).where(User.phone == longest.resident_login))
        lines = session.scalar(
            select(func.count(PointsEntry.id)).where(PointsEntry.user_id == resident.id)
        )
        balance = resident.points_balance
    page = desk(new_context)
    log_in(page, server, longest.resident_login, longest.password)
    url = f"{server.url}/aid/points/passbook?paper={paper}"
    pdf = printed(page, url, paper, tmp_path, folder, f"paper-passbook-longest-{paper}")
    # Each line of the longest ledger (a 200-character reason) takes at most half a page.
    assert 1 <= len(pdf) <= 1 + lines // 2, f"{len(pdf)} pages for {lines} lines"
    assert "爱心存折" in text_of(pdf, 0)
    last = text_of(pdf, len(pdf) - 1)
    assert "合计" in last and str(balance) in last


def test_the_demo_residents_passbook_prints_from_the_office_on_a5(
    server, new_context, tmp_path, folder
):
    with server.db() as session:
        resident_id = session.scalar(
            select(PointsEntry.user_id)
            .join(User, User.id == PointsEntry.user_id)
            .join(Community, Community.id == User.community_id)
            .where(Community.slug == "zijinghua")
            .group_by(PointsEntry.user_id)
            .order_by(func.count(PointsEntry.id).desc(), PointsEntry.user_id)
            .limit(1)
        )
    page = desk(new_context)
    log_in(page, server, "zijinghua")
    url = f"{server.url}/admin/aid/residents/{resident_id}/passbook"
    pdf = printed(page, url, "a5", tmp_path, folder, "paper-passbook")
    assert "合计" in text_of(pdf, len(pdf) - 1)


def test_card_statements_print_on_a4(server, longest, new_context, tmp_path, folder):
    with server.db() as session:
        most_used = session.scalar(  # of the signed-in staff's own community
            select(Redemption.card_id)
            .join(Community, Community.id == Redemption.community_id)
            .where(Community.slug == "zijinghua")
            .group_by(Redemption.card_id)
            .order_by(func.count(Redemption.id).desc(), Redemption.card_id)
            .limit(1)
        )
        uses = session.scalar(
            select(func.count(Redemption.id)).where(Redemption.card_id == most_used)
        )
        serial = session.get(Card, most_used).serial
    page = desk(new_context)
    log_in(page, server, "zijinghua")
    pdf = printed(
        page,
        f"{server.url}/admin/cards/{most_used}/statement",
        "a4",
        tmp_path,
        folder,
        "paper-statement",
    )
    assert serial in text_of(pdf, 0)
    assert len(pdf) <= 1 + uses // 10, f"{len(pdf)} pages for {uses} uses"
    assert "合计" in text_of(pdf, len(pdf) - 1)
    # the holder's, of the longest campaign's card, from its page
    holder = desk(new_context)
    pdf = printed(
        holder,
        f"{server.url}/c/{longest.card}/statement",
        "a4",
        tmp_path,
        folder,
        "paper-statement-longest",
    )
    assert len(pdf) == 1 and "合计" in text_of(pdf, 0)


def test_window_stickers_print_on_one_a6_sheet(server, longest, new_context, tmp_path, folder):
    shop = desk(new_context)
    log_in(shop, server, longest.shop_login, longest.password)
    pdf = printed(
        shop,
        f"{server.url}/m/sticker",
        "a6",
        tmp_path,
        folder,
        "paper-sticker-longest",
        fixed_sheet=True,
    )
    assert len(pdf) == 1 and "本店接受邻里互助消费卡" in text_of(pdf, 0)
    with server.db() as session:
        first_shop = session.scalar(
            select(Merchant.id)
            .join(Community, Community.id == Merchant.community_id)
            .where(Community.slug == "zijinghua")
            .order_by(Merchant.id)
            .limit(1)
        )
    staff = desk(new_context)
    log_in(staff, server, "zijinghua")
    url = f"{server.url}/admin/merchants/{first_shop}/sticker"
    pdf = printed(staff, url, "a6", tmp_path, folder, "paper-sticker", fixed_sheet=True)
    assert len(pdf) == 1


@pytest.mark.parametrize("who", ["zijinghua", "longest"])
def test_the_notice_board_poster_prints_on_one_a4_sheet(
    server, longest, new_context, tmp_path, folder, who
):
    page = desk(new_context)
    if who == "longest":
        log_in(page, server, "longest-staff", longest.password)
        community_id = longest.community_id
    else:
        log_in(page, server, who)
        with server.db() as session:
            community_id = session.scalar(select(Community.id).where(Community.slug == who))
    name = "paper-poster" if who == "zijinghua" else "paper-poster-longest"
    pdf = printed(page, f"{server.url}/admin/poster/{community_id}", "a4", tmp_path, folder, name)
    assert len(pdf) == 1, f"the poster printed on {len(pdf)} pages"
    assert "/s/" in text_of(pdf, 0)
