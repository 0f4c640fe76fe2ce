"""月报 printed from the browser: a community's and a street's month each fit one A4 page.

The demo's 紫荆花 (and 琴断口街) have months of uses, top shops and help to show, so the page
is as full as a real month's. Chromium prints with the page's own CSS (`@page size: A4`).
"""

import pypdfium2
import pytest

from .conftest import log_in

A4_POINTS = (595, 842)


def printed(page, url, tmp_path):
    page.goto(url)
    page.emulate_media(media="print")
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('.report *')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1"
        " && getComputedStyle(e).overflow !== 'visible')"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert overflow == []
    path = tmp_path / "report.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)
    return pypdfium2.PdfDocument(str(path))


@pytest.mark.parametrize(
    ("login", "url"),
    [
        ("zijinghua", "/admin/report"),
        ("qinduankou", "/admin/report"),  # a street's staff reading a community's month
    ],
)
def test_a_monthly_report_prints_on_one_a4_page(server, new_context, tmp_path, login, url):
    page = new_context(phone=False, viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, server, login)
    pdf = printed(page, server.url + url, tmp_path)
    assert len(pdf) == 1, f"{url} printed on {len(pdf)} pages"
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == A4_POINTS
    text = pdf[0].get_textpage().get_text_range()
    assert "月报" in text and "本月数据" in text and "制表" in text


def test_a_street_report_prints_on_one_a4_page(server, new_context, tmp_path):
    with server.db() as session:
        from sqlalchemy import select

        from app.models import Street

        street_id = session.scalar(select(Street.id).where(Street.name == "琴断口街"))
    page = new_context(phone=False, viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, server, "qinduankou")
    pdf = printed(page, f"{server.url}/admin/streets/{street_id}/report", tmp_path)
    assert len(pdf) == 1, f"the street's report printed on {len(pdf)} pages"
    text = pdf[0].get_textpage().get_text_range()
    assert "紫荆花社区" in text and "各社区月报" in text
