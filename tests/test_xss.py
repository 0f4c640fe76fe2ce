"""Stored text is shown as text everywhere: names and notes full of markup, quotes, RTL marks and
emoji never become markup on any page, and never formulas in an export."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.models import Card, HelpPost, Merchant, PointsEntry, PointsKind, Redemption, User

from . import test_access_matrix as matrix
from .conftest import login
from .test_access_matrix import MATRIX, OK, url_for_rule

world = matrix.world  # the access matrix's two communities, shop, card, redemption, key

SCRIPT = "<script>alert('x')</script>"
ATTRIBUTE = '" onmouseover="alert(1)'
HOSTILE = f"张记{SCRIPT}{ATTRIBUTE}\u202e反\u202c😀"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def hostile(db, world):
    """Write hostile text into every field people can type that pages show."""
    users, args = world
    shop = db.session.get(Merchant, args["merchant_id"])
    shop.name = HOSTILE
    shop.address = FORMULA
    shop.hours = HOSTILE
    shop.note = HOSTILE
    shop.status_reason = HOSTILE
    card = db.session.get(Card, args["card_id"])
    card.household = "1-1-" + SCRIPT[:20]
    card.holder_phone = ATTRIBUTE[:20]
    campaign = card.campaign
    campaign.name = HOSTILE[:80]
    campaign.description = HOSTILE
    redemption = db.session.get(Redemption, args["redemption_id"])
    redemption.void_reason = HOSTILE[:200]
    for user in db.session.scalars(select(User)):
        user.name = (SCRIPT + user.name)[:40]
    for post in db.session.scalars(select(HelpPost)):
        post.title = HOSTILE[:80]
        post.details = HOSTILE
        post.when_text = HOSTILE[:80]
        post.area = FORMULA[:80]
    resident = db.session.get(User, args["resident_id"])
    resident.points_balance = 5
    db.session.add(
        PointsEntry(
            community_id=resident.community_id,
            user_id=resident.id,
            kind=PointsKind.ADJUSTED,
            amount=5,
            balance_after=5,
            reason=HOSTILE[:200],
        )
    )
    db.session.commit()
    return users, args


def assert_escaped(text: str, where: str):
    assert SCRIPT not in text, f"unescaped <script> on {where}"
    assert ATTRIBUTE not in text, f"unescaped attribute quote on {where}"


@pytest.mark.parametrize("role", ["anonymous", "resident", "cashier", "merchant_owner",
                                  "staff_a", "district_admin"])  # fmt: skip
def test_no_page_turns_stored_text_into_markup(app, hostile, role, tally):
    users, args = hostile
    client = app.test_client() if role == "anonymous" else login(app, users[role])
    shown = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/static", "/api")):
            continue
        if MATRIX[(rule.endpoint, "GET")][role] != OK:
            continue
        response = client.get(url_for_rule(rule, args))
        if response.mimetype in ("text/html", "application/json", "text/csv"):
            text = response.get_data(as_text=True)
            assert_escaped(text, rule.rule)
            tally["stored XSS: pages checked with hostile text"] += 1
            if "&lt;script&gt;" in text:
                shown.append(rule.rule)
    # the hostile text did reach pages of every kind of visitor (escaped), so the check bit
    assert shown, f"no page showed the stored text to {role}"


def test_the_hostile_shop_name_is_shown_as_text_on_the_card_page(app, client, hostile):
    _users, args = hostile
    page = client.get(f"/c/{args['token']}").get_data(as_text=True)
    assert "&lt;script&gt;" in page
    assert_escaped(page, "/c/<token>")


def test_exports_neither_run_markup_nor_formulas(staff, hostile):
    found = 0
    for path in (
        "/admin/merchants",
        "/admin/redemptions",
        "/admin/dashboard",
        "/admin/aid/posts",
        "/admin/aid/residents",
    ):
        for fmt in ("csv", "xlsx"):
            response = staff.get(path, query_string={"export": fmt})
            if response.status_code != 200 or not response.data:
                continue
            if fmt == "csv":
                rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
                cells = [cell for row in rows for cell in row]
            else:
                sheet = load_workbook(io.BytesIO(response.data)).active
                cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
            found += 1
            for cell in cells:
                assert (
                    not cell.startswith(("=", "+", "-", "@"))
                    or cell.lstrip("-").replace(".", "").isdigit()
                ), f"{path} {fmt}: a formula cell {cell!r}"
            if path == "/admin/merchants":
                assert any(cell.startswith("'=HYPERLINK") for cell in cells), cells
    assert found >= 2
