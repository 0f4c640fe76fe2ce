"""One vocabulary: every state, kind, refusal and audited action reads as a Chinese word.

The office's pages and exports are swept with the demo plus a thing in every state, and fail
on a stored code (`used_up`, `merchant.suspend`, `bill_fen`), an English sentence or an English
full stop after Chinese. DEVELOPERS.md "Glossary" lists the words.
"""

import ast
import csv
import enum
import importlib
import io
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

import app as app_package
from app import models
from app.admin import audit_words
from app.admin.labels import ACTION_LABELS, REFUSAL_LABELS, label
from app.i18n import message
from app.models import (
    AttemptLog,
    CampaignKind,
    CampaignStatus,
    Card,
    CardStatus,
    Community,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    User,
)
from app.services.errors import DomainError, Refusals
from app.services.redemptions import RedeemError, void_redemption

from . import factories
from .calls import redeem, run
from .conftest import login

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_STOP = re.compile(r"[\u4e00-\u9fff）」”]\.(?:\s|$)")
ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")  # three English words


def enums() -> list[type[enum.Enum]]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and issubclass(value, enum.Enum)
        and value.__module__ == models.__name__
    ]


def domain_errors() -> list[type[DomainError]]:
    for info in pkgutil.walk_packages(app_package.__path__, app_package.__name__ + "."):
        importlib.import_module(info.name)
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        if not issubclass(cls, Refusals):  # several refusals at once, not a code of its own
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def raw_codes() -> set[str]:
    """Every code a page must never show: enum values, error codes, actions, audit fields."""
    codes = {m.value for e in enums() for m in e} | set(ACTION_LABELS) | set(REFUSAL_LABELS)
    codes |= {code for cls in domain_errors() for code in cls.messages}
    codes |= set(audit_words.FIELD_LABELS)
    # Words that are also ordinary names on a page (a login name "zjh01-cashier" is split at
    # "-", so is never a whole word); what remains are codes.
    return {code for code in codes if len(code) > 1}


def read_problems(text: str, codes: set[str]) -> list[str]:
    problems = []
    for word in re.findall(r"(?<![\w.-])[a-z][a-z_.]*[a-z](?![\w.-])", text):
        if word in codes:
            problems.append(f"raw code {word!r}")
    if ENGLISH_STOP.search(text):
        problems.append(f"English full stop in {text!r}")
    if HAN.search(text) is None and (found := ENGLISH_WORDS.search(text)):
        problems.append(f"English text {found.group()!r}")
    return problems


class VisibleText(HTMLParser):
    """Collect the text a person reads (not scripts, styles or attribute values)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def page_problems(html: str, codes: set[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    footer_links = {"English", "中文"}
    return [p for t in parser.texts if t not in footer_links for p in read_problems(t, codes)]


def csv_problems(body: str, codes: set[str]) -> list[str]:
    return [
        p
        for row in csv.reader(io.StringIO(body))
        for cell in row
        for p in read_problems(cell, codes)
    ]


# --- every value has a word -------------------------------------------------------------------


def test_every_state_and_kind_has_a_chinese_word(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        missing = [
            f"{e.__name__}.{m.name}"
            for e in enums()
            for m in e
            if label(m) == m.value or not HAN.search(label(m))
        ]
    assert not missing, f"no Chinese label (admin/labels.py LABELS) for {missing}"


def test_every_error_code_reads_in_chinese_without_an_english_full_stop(app):
    problems = []
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        for cls in domain_errors():
            for code in cls.messages:
                error = cls(code)
                error.details = {k: "某" for k in re.findall(r"%\((\w+)\)s", error.message)}
                text = message(error)
                if not HAN.search(text) or text == error.message or ENGLISH_STOP.search(text):
                    problems.append(f"{cls.__name__}({code!r}): {text!r}")
    assert not problems, problems


def test_every_refused_attempt_has_a_short_word_for_staff(app):
    logged = set(RedeemError.messages) | {"lookup_failed"}
    assert logged <= set(REFUSAL_LABELS)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert all(HAN.search(str(text)) for text in REFUSAL_LABELS.values())


AREA = "|".join(["merchant", "user", "campaign", "offer", "batch", "card", "redemption",
                 "community", "demo", "resident", "help", "points", "api_key",
                 "street"])  # fmt: skip
ACTION = re.compile(rf"(?:{AREA})\.[a-z_]+")


def audited_actions() -> tuple[set[str], set[str]]:
    """Return the actions services record: constants that look like one, and f-string prefixes."""
    constants, prefixes = set(), set()
    for path in (ROOT / "app" / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if ACTION.fullmatch(node.value) and not node.value.endswith(".id"):
                    constants.add(node.value)
            elif isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
                head = node.values[0].value
                if re.fullmatch(rf"(?:{AREA})\.", head):
                    prefixes.add(head)
    return constants, prefixes


def test_every_audited_action_has_a_name():
    constants, prefixes = audited_actions()
    assert {"merchant.suspend", "redemption.create", "card.void"} <= constants
    assert {"campaign.", "offer."} <= prefixes
    assert not constants - set(ACTION_LABELS)
    for prefix in prefixes:
        assert any(action.startswith(prefix) for action in ACTION_LABELS), prefix


def test_every_field_an_audit_row_keeps_has_a_name():
    from app.services import (
        campaigns,
        communities,
        helpboard,
        issuing,
        merchants,
        residents,
        streets,
    )

    kept = {
        *campaigns.CAMPAIGN_FIELDS,
        *campaigns.OFFER_FIELDS,
        *communities.COMMUNITY_FIELDS,
        *helpboard.POST_FIELDS,
        *issuing.CARD_FIELDS,
        *merchants.DETAIL_FIELDS,
        *merchants.MERCHANT_FIELDS,
        *residents.RESIDENT_FIELDS,
        *streets.STREET_FIELDS,
    }
    assert not kept - set(audit_words.FIELD_LABELS)


# --- the pages and exports say it in words ------------------------------------------------------


@pytest.fixture
def everything(app, db):
    """The demo (the test is marked `demo`), plus a thing in every state and a refusal of every
    code, through the services."""
    community = db.session.scalar(select(Community).where(Community.slug == "zijinghua"))
    assert community is not None, "a test using `everything` is marked @pytest.mark.demo"
    staff_user = db.session.scalar(select(User).where(User.username == "zijinghua"))
    cashier_user = db.session.scalar(select(User).where(User.username == "zjh01-cashier"))
    shop = cashier_user.merchant
    for status in MerchantStatus:
        factories.merchant(community, f"状态{label(status)}商店", status=status)
    campaigns = {}
    for status in CampaignStatus:
        for kind in CampaignKind:
            code = f"T{len(campaigns)}"
            name = f"{label(status)}{label(kind)}活动"
            campaigns[status, kind] = factories.campaign(
                community, name=name, kind=kind, code=code, status=status
            )
    running = campaigns[CampaignStatus.ACTIVE, CampaignKind.CARD]
    for status in OfferStatus:
        other = factories.merchant(community, f"参加{label(status)}商店")
        factories.offer(running, other, status=status)
    factories.offer(running, shop)
    cards = factories.cards(running, len(CardStatus) + 1)
    for card, status in zip(cards, CardStatus, strict=False):
        card.status = status
    db.session.commit()
    live = cards[-1]
    done = redeem(db.session, live.token, shop, cashier_user, 5000, "vocabulary-1")
    run(db, void_redemption, db.session.get(Redemption, done.id), staff_user, "输错")
    redeem(db.session, live.token, shop, cashier_user, 6000, "vocabulary-2")
    for code in REFUSAL_LABELS:
        db.session.add(
            AttemptLog(
                code=code, community_id=community.id, merchant_id=shop.id, card_ref=live.serial
            )
        )
    db.session.commit()
    return running, login(app, staff_user)


OFFICE_PAGES = [
    "/admin/",
    "/admin/merchants",
    "/admin/campaigns",
    "/admin/cards",
    "/admin/redemptions",
    "/admin/attempts",
    "/admin/audit?per=200",
    "/admin/aid/posts",
    "/admin/aid/residents",
    "/admin/dashboard",
]


@pytest.mark.demo
def test_the_office_pages_and_exports_show_no_code_and_no_english(everything, db):
    codes = raw_codes()
    problems = {}
    running, staff = everything
    card = db.session.scalar(select(Card).where(Card.campaign_id == running.id))
    merchant = db.session.scalar(select(Merchant).order_by(Merchant.id))
    redemption = db.session.scalar(select(Redemption).order_by(Redemption.id.desc()))
    offer = db.session.scalar(select(Offer).where(Offer.campaign_id == running.id))
    pages = [
        *OFFICE_PAGES,
        f"/admin/campaigns/{running.id}",
        f"/admin/cards/{card.id}",
        f"/admin/merchants/{merchant.id}",
        f"/admin/redemptions/{redemption.id}",
        f"/admin/offers/{offer.id}/edit",
    ]
    for url in pages:
        response = staff.get(url)
        assert response.status_code == 200, url
        if found := page_problems(response.text, codes):
            problems[url] = sorted(set(found))
    for url in OFFICE_PAGES[1:]:
        joiner = "&" if "?" in url else "?"
        response = staff.get(f"{url}{joiner}export=csv")
        if response.mimetype == "text/csv":
            if found := csv_problems(response.data.decode("utf-8-sig"), codes):
                problems[url + " (csv)"] = sorted(set(found))
    assert not problems, problems


@pytest.mark.demo
def test_the_audit_log_of_the_demo_names_every_thing_and_field(everything):
    _running, staff = everything
    body = staff.get("/admin/audit?export=csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert len(rows) > 20
    assert not [row for row in rows if "#" in row[3]], "every object is named"
    assert any("作废核销" in row[2] and "已作废" in row[4] for row in rows)
    assert any("账单：¥50.00" in row[4] for row in rows)  # a redemption's bill in yuan
