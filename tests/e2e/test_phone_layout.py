"""Every page a resident or a shop sees, at 360 px wide, meets the 适老化 numbers
(`measures.py`: text, key figures, line height, contrast, tap targets, overflow) in the normal
mode and in 大字, and holds without sideways scrolling or clipped text at 200 % text zoom and at
WeChat's 关怀模式 text size; and (the guard) no console error, no CSP violation, no request to
another host. The worst case of each measure per mode is printed with the page where it occurs.
Paper pages (print layouts, `measures.IS_PAPER`) are listed and left out.

The pages come from `app.url_map`: every GET route outside the office (/admin) and the till API
(/api) is opened, so a new page is checked as soon as it exists. A route whose URL needs a value
this file cannot make fails here with its name: add the value to VALUES (or teach `value_for`).

The pages are filled with the longest data the app can hold (`longest.py`: names, addresses,
rules as long as the forms allow, days of the largest bills, a resident's longest posts and
ledger): shop pages are opened signed in as its shop, the help board's (blueprint `aid`) as its
resident, the others as a visitor, on the demo's cards and the longest community's.
"""

import re

import pytest
from flask import url_for
from sqlalchemy import select

from app.extensions import db as _db
from app.models import Card, CardStatus, Community, Redemption

from . import measures
from .conftest import PHONE, demo_resident, log_in

SKIPPED_BLUEPRINTS = {"admin", "api"}  # the office works at a desk; the API answers tills
SHOP_BLUEPRINTS = {"merchant"}
RESIDENT_BLUEPRINTS = {"aid"}  # the help board: signed in as the longest resident
VOLUNTEER_BLUEPRINTS = {"volunteer"}  # as the demo's resident (a volunteer too)


def _first(session, statement):
    value = session.scalar(statement.limit(1))
    assert value is not None, statement
    return value


def values(server, longest) -> dict:
    """Values for the URL arguments of resident and shop pages: the longest shop's and
    resident's rows, and the demo's most used card."""
    shop_id = longest.merchant_id
    with server.db() as session:
        known = {
            "post_id": longest.post_id,  # the resident's own: its cancel page asks
            "campaign_id": longest.exchange_id,  # its exchange page asks
        }
        demo = _first(session, select(Community.id).where(Community.slug == "zijinghua"))
        activities = _db.metadata.tables.get("volunteer_activity")  # volunteers, once they are in
        if activities is not None:
            certificates = _db.metadata.tables["volunteer_certificate"]
            known["activity_id"], known["activity_token"] = session.execute(
                select(activities.c.id, activities.c.token)
                .where(activities.c.community_id == demo, activities.c.urgent.is_(True))
                .limit(1)
            ).one()
            known["serial"] = _first(session, select(certificates.c.serial))
        return known | {
            "token": _first(
                session,
                select(Card.token)
                .where(Card.status == CardStatus.ISSUED, Card.uses_count > 0)
                .order_by(Card.uses_count.desc()),
            ),
            "slug": "zijinghua",
            "state": "on",
            "code": "zh_Hans_CN",
            "redemption_id": _first(
                session,
                select(Redemption.id)
                .where(Redemption.merchant_id == shop_id)
                .order_by(Redemption.id.desc()),
            ),
            "merchant_id": shop_id,
            "community_id": longest.community_id,
        }


def value_for(server, name: str, known: dict):
    """A value for a URL argument: a known one, else the first row of the table it names."""
    if name in known:
        return known[name]
    table = name.removesuffix("_id")
    if name.endswith("_id"):
        for candidate in _db.metadata.sorted_tables:
            if candidate.name in {table, f"{table}s", f"help_{table}", f"aid_{table}"}:
                with server.db() as session:
                    found = session.scalar(select(candidate.c.id).order_by(candidate.c.id).limit(1))
                if found is not None:
                    return found
    pytest.fail(f"no value for the URL argument {name!r}: add one to values() in {__file__}")


def phone_pages(server, longest) -> list[tuple[str, str]]:
    """(blueprint, URL) of every GET page outside the office and the API."""
    known = values(server, longest)
    pages = []
    with server.app.test_request_context(base_url=server.url):
        for rule in server.app.url_map.iter_rules():
            blueprint = rule.endpoint.rpartition(".")[0]
            if "GET" not in rule.methods or blueprint in SKIPPED_BLUEPRINTS or not blueprint:
                continue
            arguments = {name: value_for(server, name, known) for name in rule.arguments}
            url = url_for(rule.endpoint, **arguments)
            if rule.rule.startswith("/C/"):
                url = "/C/" + url.removeprefix("/c/")
            pages.append((blueprint, url))
    # Pages that are states of a route rather than routes of their own.
    pages += [
        ("merchant", f"/m/card?ref={longest.card}"),  # the card at the till
        ("merchant", f"/m/card?ref={longest.till_card}"),  # at the longest rule
        ("merchant", f"/m/card?ref={known['token']}"),  # refused: another community's
        ("merchant", "/m/card?ref=ZJH-0000-00"),  # refused: no such card
        ("merchant", "/m/history?date=2000-01-01"),  # a day without uses
        ("resident", f"/s/{longest.slug}"),  # the longest community's notice board
        ("resident", f"/c/{longest.card}"),  # a card of the longest campaign, used
    ]
    return sorted(set(pages))


def _is_page(page, url) -> bool:
    """Whether `url` answers with a page: not an icon, the manifest, the service worker or a
    health check, nor a switch that redirects (the language, 大字)."""
    answer = page.request.head(url, max_redirects=0)
    return answer.status < 300 and answer.headers.get("content-type", "").startswith("text/html")


def signed_in_pages(server, longest, new_context):
    """Four phones: a visitor, the longest shop's, the longest resident's and a volunteer's."""
    visitor = new_context().new_page()
    shop = new_context().new_page()
    log_in(shop, server, longest.shop_login, longest.password)
    neighbour = new_context().new_page()
    log_in(neighbour, server, longest.resident_login, longest.password)
    volunteer = new_context().new_page()
    log_in(volunteer, server, demo_resident(server))
    return visitor, shop, neighbour, volunteer


def test_every_resident_and_shop_page_meets_the_numbers_in_every_mode(
    server, longest, new_context, guard, capsys
):
    # Refusals answer 4xx on purpose, and Chromium logs each as a failed load.
    guard.allow(r"status of 4\d\d .*\((http://[^)]*)?(/m/card\?ref=[^)]*|/card)\)")
    pages = phone_pages(server, longest)
    assert len(pages) >= 15
    visitor, shop, neighbour, volunteer = signed_in_pages(server, longest, new_context)

    def page_for(blueprint):
        if blueprint in SHOP_BLUEPRINTS:
            return shop
        if blueprint in RESIDENT_BLUEPRINTS:
            return neighbour
        return volunteer if blueprint in VOLUNTEER_BLUEPRINTS else visitor

    html = [(bp, path) for bp, path in pages if _is_page(page_for(bp), server.url + path)]
    worst = measures.Worst()
    problems, paper, figures = [], set(), {}

    def check(page, mode, label):
        if measures.is_paper(page):
            paper.add(label)
            return
        found = measures.measure(page, mode)
        worst.add(mode, label, found["worst"])
        figures[label] = max(figures.get(label, 0), found["figures"])
        problems.extend(f"{mode.name} {label}: {problem}" for problem in found["problems"])

    for mode in measures.MODES:
        for page in (visitor, shop, neighbour, volunteer):
            measures.set_mode(page, server.url, mode)
        for blueprint, path in html:
            page = page_for(blueprint)
            page.goto(server.url + path)
            assert page.viewport_size == PHONE
            check(page, mode, path)

        # Pages behind a form: the quote, a failed lookup.
        shop.goto(f"{server.url}/m/card?ref={longest.card}")
        shop.locator("#bill").fill("88")
        shop.locator("form.bill-form button").click()
        shop.wait_for_load_state()
        assert shop.locator("#quote-pay").is_visible()
        check(shop, mode, "the quote")
        visitor.goto(f"{server.url}/card")
        visitor.locator("form input[type=text]").first.fill("ZJH-0000-00")
        visitor.locator("form input[inputmode=numeric]").last.fill("1234")
        visitor.locator("form button[type=submit]").last.click()
        visitor.wait_for_load_state()
        check(visitor, mode, "a failed lookup")

    with capsys.disabled():
        print(f"\n{len(html) + 2} phone pages, {len(measures.MODES)} modes. {worst.report()}")
        print("paper pages, not measured: " + (", ".join(sorted(paper)) or "none"))
    assert len(html) >= 15
    assert not problems, "\n".join(problems)
    # The 代办 marks (由工作人员代办) were among what was measured.
    for path in ("/aid/points", f"/aid/posts/{longest.post_id}"):
        neighbour.goto(server.url + path)
        assert neighbour.locator(".on-behalf").count(), path
    # The pages whose key figures must be large: a card, the points, the till, a check-in.
    for path in (f"/c/{longest.card}", "/aid/points", "the quote", "/v/hours"):
        assert figures.get(path), f"{path} marks no .key-figure"


def test_the_pages_checked_include_every_kind(server, longest):
    paths = [path for _bp, path in phone_pages(server, longest)]
    for expected in (r"^/c/", r"^/C/", r"^/card$", r"^/s/zijinghua$", r"^/m/scan$", r"^/m/r/\d+$"):
        assert any(re.search(expected, path) for path in paths), expected


def test_screenshots_of_the_longest_pages_in_both_modes(
    server, longest, new_context, folder, tmp_path
):
    """The card, the points, the help board, the till and a check-in at 360 × 740, with the
    longest data, in the normal mode and in 大字 (`make screenshots` keeps four 大字 ones in
    docs/screenshots/large-*.png; the demo's normal screens are there already)."""
    known = values(server, longest)
    visitor, shop, neighbour, volunteer = signed_in_pages(server, longest, new_context)
    screens = [
        ("card", visitor, f"/c/{longest.card}"),
        ("points", neighbour, "/aid/points"),
        ("help-board", neighbour, "/aid/"),
        ("till", shop, f"/m/card?ref={longest.till_card}"),
        ("check-in", volunteer, f"/V/{known['activity_token']}"),
    ]
    for mode in (measures.NORMAL, measures.LARGE):
        for name, page, path in screens:
            measures.set_mode(page, server.url, mode)
            page.goto(server.url + path)
            page.evaluate("window.scrollTo(0, 0)")  # the till's bill field takes the focus
            kept = mode.large and name != "help-board"  # the README shows four
            shot = folder / f"large-{name}.png" if kept else tmp_path / f"{name}-{mode.large}.png"
            page.screenshot(path=shot, animations="disabled", caret="initial")
            assert shot.stat().st_size > 5_000  # a blank page compresses to less
