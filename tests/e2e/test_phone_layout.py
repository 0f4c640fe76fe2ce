"""Every page a resident or a shop sees, at 360 px wide: no sideways scrolling, tap targets of at
least 44 × 44 px, text of at least 16 px, and (the guard) no console error, no CSP violation,
no request to another host.

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

from .conftest import PHONE, demo_resident, log_in

SKIPPED_BLUEPRINTS = {"admin", "api"}  # the office works at a desk; the API answers tills
SHOP_BLUEPRINTS = {"merchant"}
RESIDENT_BLUEPRINTS = {"aid"}  # the help board: signed in as the longest resident
VOLUNTEER_BLUEPRINTS = {"volunteer"}  # as the demo's resident (a volunteer too)

AUDIT = """
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`scrolls sideways: ${root.scrollWidth}px wide in ${root.clientWidth}px`);
  }
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && style.visibility !== 'hidden' && style.opacity !== '0';
  };
  const describe = (el) => {
    const classes = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    const id = el.id ? '#' + el.id : '';
    return `<${el.tagName.toLowerCase()}${id}${classes}> "${text.slice(0, 30)}"`;
  };
  // A link inside a sentence is exempt (WCAG 2.5.8): its size is the text's.
  const inSentence = (el) => {
    if (el.matches('.button')) return false;
    const block = el.parentElement;
    return block && block.textContent.trim().length > el.textContent.trim().length;
  };
  const controls =
    'a[href], button, input:not([type=hidden]), select, textarea, summary, label[for]';
  for (const el of document.querySelectorAll(controls)) {
    let target = el;
    if (el.matches('label[for]')) {
      const control = document.getElementById(el.htmlFor);
      if (!control || shown(control)) continue;  // the label of a hidden control is the target
    }
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      target = el.closest('label') || (el.labels && el.labels[0]) || el;  // one taps the label
    }
    if (!shown(el) && target === el) continue;
    if (el.matches('a') && inSentence(el)) continue;
    const r = target.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5) {
      const size = `${Math.round(r.width)}×${Math.round(r.height)}`;
      problems.push(`small tap target ${size}: ${describe(el)}`);
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el) || !shown(el)) continue;
    seen.add(el);
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 15.95) problems.push(`text of ${size}px: ${describe(el)}`);
  }
  return problems;
}
"""


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


def audit(page) -> list[str]:
    return page.evaluate(AUDIT)


def check(page, url) -> list[str]:
    # Icons, the manifest, the service worker and health checks are not pages.
    if not page.request.head(url).headers.get("content-type", "").startswith("text/html"):
        return []
    page.goto(url)
    assert page.viewport_size == PHONE
    return [f"{url}: {problem}" for problem in audit(page)]


def test_every_resident_and_shop_page_fits_a_phone(server, longest, new_context, guard):
    # Refusals answer 4xx on purpose, and Chromium logs each as a failed load.
    guard.allow(r"status of 4\d\d .*\((http://[^)]*)?(/m/card\?ref=[^)]*|/card)\)")
    pages = phone_pages(server, longest)
    assert len(pages) >= 15
    visitor = new_context().new_page()
    shop = new_context().new_page()
    log_in(shop, server, longest.shop_login, longest.password)
    neighbour = new_context().new_page()
    log_in(neighbour, server, longest.resident_login, longest.password)
    volunteer = new_context().new_page()
    log_in(volunteer, server, demo_resident(server))
    problems = []
    for blueprint, path in pages:
        page = shop if blueprint in SHOP_BLUEPRINTS else visitor
        page = neighbour if blueprint in RESIDENT_BLUEPRINTS else page
        page = volunteer if blueprint in VOLUNTEER_BLUEPRINTS else page
        problems += check(page, server.url + path)

    # Pages behind a form: the quote, a failed lookup; and the card page in large type.
    shop.goto(f"{server.url}/m/card?ref={longest.card}")
    shop.locator("#bill").fill("88")
    shop.locator("form.bill-form button").click()
    shop.wait_for_load_state()
    assert shop.locator("#quote-pay").is_visible()
    problems += [f"quote: {p}" for p in audit(shop)]
    visitor.goto(f"{server.url}/card")
    visitor.locator("form input[type=text]").first.fill("ZJH-0000-00")
    visitor.locator("form input[inputmode=numeric]").last.fill("1234")
    visitor.locator("form button[type=submit]").last.click()
    visitor.wait_for_load_state()
    problems += [f"failed lookup: {p}" for p in audit(visitor)]
    visitor.goto(f"{server.url}/large-type/on")
    problems += check(visitor, f"{server.url}/c/{values(server, longest)['token']}")

    assert not problems, "\n".join(problems)


def test_the_pages_checked_include_every_kind(server, longest):
    paths = [path for _bp, path in phone_pages(server, longest)]
    for expected in (r"^/c/", r"^/C/", r"^/card$", r"^/s/zijinghua$", r"^/m/scan$", r"^/m/r/\d+$"):
        assert any(re.search(expected, path) for path in paths), expected
