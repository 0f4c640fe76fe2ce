"""Issue 16, defect by defect: what an attacker sent, and what the site must answer now.

Each test reproduces one defect as it was reported (a frozen worker, an off-site redirect, a
500) and asserts the clear 4xx that replaced it, with nothing written.
"""

import functools
import io
import time
import tracemalloc
import zipfile
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.clock import utcnow
from app.models import AttemptLog, AuditLog, Redemption, User
from app.services import apikeys

from . import factories


@pytest.fixture
def card(community, shop):
    campaign = factories.campaign(community, rule="8折")
    factories.offer(campaign, shop, "8折")
    return factories.cards(campaign, 1)[0]


@pytest.fixture
def key(db, merchant_user):
    _row, plaintext = apikeys.create_key(db.session, merchant_user, "前台")
    db.session.commit()
    return plaintext


def api(client, key, path, body: bytes | str, **headers):
    return client.post(
        path,
        data=body,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": "hostile-000001",
            **headers,
        },
    )


def redemptions(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Redemption.id)))


# --- 1. a JSON number with a billion digits ---------------------------------------------------


@pytest.mark.parametrize("number", ["1e999999999", "1e1000000", "-1E+999999999", "9" * 5000])
@pytest.mark.parametrize("path", ["/api/v1/quote", "/api/v1/redemptions"])
def test_a_bill_of_a_billion_digits_is_refused_at_once(client, key, card, db, number, path):
    started = time.process_time()
    response = api(client, key, path, f'{{"card": "{card.token}", "bill_fen": {number}}}')
    assert time.process_time() - started < 0.5
    assert response.status_code == 400
    assert response.json["error"] in {"bad_bill", "bad_json"}
    assert redemptions(db) == 0


def test_a_bill_written_as_an_exponent_that_is_whole_still_counts(client, key, card, db):
    response = api(client, key, "/api/v1/quote", f'{{"card": "{card.token}", "bill_fen": 1.88e4}}')
    assert response.status_code == 200 and response.json["pay_fen"] == 15040


# --- 2. open redirects --------------------------------------------------------------------


OFF_SITE = [
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "//evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "https://evil.example/",
    "https:evil.example",
    "/%2F/evil.example",
    "%20//evil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("switch", ["/lang/en", "/large-type/on"])
def test_a_switch_never_redirects_off_site(client, switch, target):
    response = client.get(f"{switch}?next={target}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/" or location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "\\" not in location


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_never_redirects_off_site(client, merchant_user, target):
    response = client.post(
        f"/login?next={target}",
        data={"login": merchant_user.username, "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert response.headers["Location"] == "/m/"


def test_a_local_next_is_followed(client):
    response = client.get("/lang/en?next=/s/zijinghua%3Fcat%3D1")
    assert response.headers["Location"] == "/s/zijinghua?cat=1"


# --- 6. other 500s ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/quote", "/api/v1/redemptions"])
def test_json_nested_a_thousand_deep_is_refused(client, key, card, db, path):
    body = '{"card": ' + "[" * 1000 + "]" * 1000 + ', "bill_fen": 100}'
    response = api(client, key, path, body)
    assert response.status_code == 400 and response.json["error"] == "json_too_deep"
    assert "嵌套" in response.json["message"]
    assert redemptions(db) == 0


def test_a_json_body_over_64_kb_is_refused_unread(client, key, card, db):
    body = '{"card": "' + "x" * 70_000 + '", "bill_fen": 100}'
    response = api(client, key, "/api/v1/quote", body)
    assert response.status_code == 413 and response.json["error"] == "json_too_large"


@pytest.mark.parametrize("body", ["[]", '"x"', "{", '{"bill_fen": NaN}', "\udcff"])
def test_a_body_that_is_not_a_json_object_is_bad_json(client, key, card, body):
    response = api(client, key, "/api/v1/quote", body.encode("utf-8", "surrogateescape"))
    assert response.status_code == 400 and response.json["error"] == "bad_json"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "١٢٣٤-01-01", "2026-13-01"])
def test_the_api_refuses_a_date_out_of_range(client, key, day):
    response = client.get(
        f"/api/v1/redemptions?date={day}", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400 and response.json["error"] == "bad_date"


# --- 3. guessing a card's PIN -----------------------------------------------------------------


def wrong(card) -> str:
    return "1111" if card.pin != "1111" else "2222"


def try_pin_everywhere(cashier, client, key, card, pin):
    """Try a card by serial and PIN at the till, through the API and on /card: the codes."""
    till = cashier.post("/m/card", data={"serial": card.serial, "pin": pin})
    quote = api(
        client,
        key,
        "/api/v1/quote",
        f'{{"card": "{card.serial}", "pin": "{pin}", "bill_fen": 100}}',
    )
    lookup = client.post("/card", data={"serial": card.serial, "pin": pin})
    return till, quote, lookup


def test_five_wrong_pins_on_any_path_lock_the_card_by_pin_on_every_path(
    app, client, cashier, key, card, db
):
    assert cashier.post(
        "/m/card", data={"serial": card.serial, "pin": wrong(card)}
    ).status_code == (403)
    assert (
        api(
            client,
            key,
            "/api/v1/quote",
            f'{{"card": "{card.serial}", "pin": "9x9", "bill_fen": 1}}',
        ).json["error"]
        == "wrong_pin"
    )
    for _ in range(3):
        assert client.post(
            "/card", data={"serial": card.serial, "pin": wrong(card)}
        ).status_code == (200)
    till, quote, lookup = try_pin_everywhere(cashier, client, key, card, card.pin)
    assert till.status_code == 429 and 'data-code="pin_locked"' in till.text
    assert quote.status_code == 429 and quote.json["error"] == "pin_locked"
    assert lookup.status_code == 429 and "输错密码次数太多" in lookup.text
    db.session.rollback()
    codes = db.session.scalars(
        select(AttemptLog.code).where(AttemptLog.card_id == card.id).order_by(AttemptLog.id)
    ).all()
    assert codes == ["wrong_pin"] * 5 + ["pin_locked"] * 3
    # the holder with the card in hand: its QR is never refused for this
    assert cashier.get(f"/m/card?ref={card.token}").status_code == 200


def test_the_lock_ends_an_hour_after_the_wrong_pins(client, cashier, key, card, db):
    for _ in range(5):
        client.post("/card", data={"serial": card.serial, "pin": wrong(card)})
    assert client.post("/card", data={"serial": card.serial, "pin": card.pin}).status_code == 429
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
        till = cashier.post("/m/card", data={"serial": card.serial, "pin": card.pin})
        assert till.status_code == 200


def test_staff_see_the_locked_card_and_release_it(app, client, cashier, staff, key, card, db):
    for _ in range(5):
        client.post(
            "/card",
            data={"serial": card.serial, "pin": wrong(card)},
            environ_base={"REMOTE_ADDR": "10.5.5.5"},
        )
    dashboard = staff.get("/admin/dashboard")
    assert f"卡 {card.serial} 已锁定" in dashboard.text
    assert f"/admin/cards/{card.id}" in dashboard.text
    page = staff.get(f"/admin/cards/{card.id}")
    assert "已锁定" in page.text and "解除密码锁定" in page.text
    released = staff.post(f"/admin/cards/{card.id}/release-pin")
    assert released.status_code == 302
    db.session.rollback()
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "card.pin_release"))
    assert row.object_id == card.id and row.after == {"wrong_pins": 5}
    till = cashier.post("/m/card", data={"serial": card.serial, "pin": card.pin})
    assert till.status_code == 200
    assert "解除密码锁定" not in staff.get(f"/admin/cards/{card.id}").text
    again = staff.post(f"/admin/cards/{card.id}/release-pin")  # nothing left to release
    assert again.status_code == 302
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "card.pin_release")
        )
        == 1
    )


def test_the_pin_travels_in_the_body_never_in_an_address(cashier, card):
    scan = cashier.get("/m/scan")
    assert 'method="post" action="/m/card"' in scan.text
    card_page = cashier.post("/m/card", data={"serial": card.serial, "pin": card.pin})
    quote = cashier.post("/m/quote", data={"ref": card.serial, "pin": card.pin, "bill": "100"})
    for page in (card_page, quote):
        assert page.status_code == 200
        assert f"pin={card.pin}" not in page.text and f"pin%3D{card.pin}" not in page.text


# --- 4. control characters in stored text -----------------------------------------------------


def test_a_control_character_typed_into_a_form_is_not_stored(client, db, community):
    form = {
        "community": community.id,
        "name": "居民\x03乙",
        "phone": "139 0000 0005",
        "household": "3栋2单元502室",
        "password": "secret-123",
        "confirm": "secret-123",
    }
    assert client.post("/aid/join", data=form).status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(User.name).where(User.phone == "13900000005")) == "居民乙"


def test_a_multi_line_field_keeps_its_line_breaks_and_loses_its_controls(app):
    from werkzeug.datastructures import MultiDict
    from wtforms import StringField, TextAreaField

    from app.forms import Form

    class Note(Form):
        class Meta:
            csrf = False

        title = StringField()
        details = TextAreaField()

    form = Note(MultiDict({"title": "a\nb\x07", "details": "第一行\r\n第二行\x1b[31m"}))
    assert (form.title.data, form.details.data) == ("a b", "第一行\n第二行[31m")


@pytest.mark.parametrize("export", ["xlsx", "csv"])
def test_exports_never_fail_on_control_characters_already_stored(
    client, key, staff, db, community, card, export
):
    factories.resident(community, "13900000009", name="居民\x03乙")
    api(client, key, "/api/v1/quote", '{"card": "\\u0001abc", "bill_fen": 100}')
    db.session.add(
        AttemptLog(code="not_found", community_id=community.id, card_ref="\x01abc\x1f", ip="")
    )
    audit_row = AuditLog(
        community_id=community.id,
        action="merchant.update",
        object_type="merchant",
        note="原因\x0b含控制字符",  # PostgreSQL cannot store NUL at all
        after={"name": "店\x02"},
    )
    db.session.add(audit_row)
    db.session.commit()
    for path in ("/admin/aid/residents", "/admin/audit", "/admin/attempts"):
        response = staff.get(f"{path}?export={export}")
        assert response.status_code == 200, path
        body = response.data
        if export == "xlsx":
            with zipfile.ZipFile(io.BytesIO(body)) as book:
                body = b"".join(book.read(n) for n in book.namelist())
        assert not any(byte in body for byte in (1, 2, 3, 11, 31)), path


# --- 5. spreadsheet bombs -------------------------------------------------------------------


def rezipped(workbook: bytes, **parts: bytes) -> bytes:
    """The workbook with some of its parts replaced (names with / written as __)."""
    replace = {name.replace("__", "/"): data for name, data in parts.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                target.writestr(item.filename, replace.pop(item.filename, source.read(item)))
            for name, data in replace.items():
                target.writestr(name, data)
    return out.getvalue()


def plain_workbook() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["名称", "电话"])
    book.active.append(["张记热干面", "13912345678"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHEET = "xl__worksheets__sheet1.xml"
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
)
SHEET_TAIL = b"</t></is></c></row></sheetData></worksheet>"


@functools.cache
def bombs() -> dict[str, bytes]:
    book = plain_workbook()
    big = 100 * 1024 * 1024  # deflates to ~100 KB
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
        + b"a" * big
        + b"</t></si></sst>"
    )
    return {
        "one huge cell": rezipped(book, **{SHEET: SHEET_HEAD + b"a" * big + SHEET_TAIL}),
        "huge shared strings": rezipped(book, xl__sharedStrings__xml=strings),
        "many parts": rezipped(book, **{f"xl__extra{i}__xml": b"x" for i in range(300)}),
        "a long cell": rezipped(book, **{SHEET: SHEET_HEAD + ("名" * 2000).encode() + SHEET_TAIL}),
        "malformed sheet XML": rezipped(book, **{SHEET: b"<worksheet><sheetData><row>"}),
        "not a zip": b"PK\x03\x04" + b"\x00" * 100,
    }


BOMBS = [
    "one huge cell",
    "huge shared strings",
    "many parts",
    "a long cell",
    "malformed sheet XML",
    "not a zip",
]


@pytest.mark.parametrize("kind", BOMBS)
def test_a_spreadsheet_bomb_is_refused_before_it_is_unpacked(kind):
    from app.services.sheets import SheetColumn, SheetError, read_sheet

    data = bombs()[kind]
    assert len(data) < 1_000_000
    tracemalloc.start()
    started = time.process_time()
    with pytest.raises(SheetError) as refusal:
        read_sheet("shops.xlsx", data, [SheetColumn("name", ("名称",), required=True)])
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert refusal.value.code in {"too_large", "unreadable", "cell_too_long"}
    assert time.process_time() - started < 2
    assert peak < 64 * 1024 * 1024


def test_a_csv_with_a_huge_cell_or_endless_rows_is_refused():
    from app.services.sheets import SheetColumn, SheetError, read_sheet

    columns = [SheetColumn("name", ("名称",), required=True)]
    with pytest.raises(SheetError) as refusal:
        read_sheet("shops.csv", "名称\n".encode() + b"a" * 2000, columns)
    assert refusal.value.code == "cell_too_long" and refusal.value.details == {"line": 2}
    with pytest.raises(SheetError) as refusal:
        read_sheet("shops.csv", "名称\n".encode() + b"x\n" * 100_000, columns)
    assert refusal.value.code == "too_many_rows"


def test_an_uploaded_bomb_gets_a_chinese_422_and_writes_nothing(staff, db):
    before = db.session.scalar(select(func.count(AuditLog.id)))
    response = staff.post(
        "/admin/merchants/import",
        data={"sheet": (io.BytesIO(bombs()["huge shared strings"]), "shops.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "解压后" in response.text
    assert db.session.scalar(select(func.count(AuditLog.id))) == before
