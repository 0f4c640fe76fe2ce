"""The bounded parsers: refuse by length and range before converting, whatever comes in."""

import time
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.inputs import (
    InputError,
    clean_text,
    json_depth,
    load_json_object,
    local_path,
    optional_date,
    optional_id,
    parse_count,
    parse_date,
    parse_fen,
    parse_hours,
    parse_id,
    parse_yuan,
    printable,
)
from app.rules import MAX_BILL_FEN

from .catalogue import chinese


def refused(parse, *args, **kwargs) -> str:
    with pytest.raises(InputError) as caught:
        parse(*args, **kwargs)
    return caught.value.code


@pytest.mark.parametrize(
    "value",
    [Decimal("1e999999999"), Decimal("1e1000000"), Decimal("-1e999999999"), "1" * 5000, "1e9"],
)
def test_a_huge_number_is_refused_without_being_built(value):
    started = time.process_time()
    assert refused(parse_fen, value) == "bad_fen"
    assert time.process_time() - started < 0.05


@pytest.mark.parametrize(
    "value", ["²", "٣", "１２", "12.5", "-3", "", " ", True, False, None, 12.0, [], {}]
)
def test_a_count_takes_only_ascii_digits_or_an_int(value):
    assert refused(parse_count, value) == "bad_count"


def test_a_count_reads_what_a_person_or_a_json_number_means():
    assert parse_count("0012") == 12
    assert parse_count(7287) == 7287
    assert parse_count(Decimal("7287.0")) == 7287
    assert parse_count(Decimal("7.287E+3")) == 7287
    assert refused(parse_count, Decimal("7287.5")) == "bad_count"
    assert refused(parse_count, 11, high=10) == "bad_count"
    assert refused(parse_count, Decimal("NaN")) == "bad_count"
    assert refused(parse_count, Decimal("Infinity")) == "bad_count"


def test_a_bill_in_fen_is_from_one_fen_to_the_largest_bill():
    assert parse_fen(1) == 1
    assert parse_fen(MAX_BILL_FEN) == MAX_BILL_FEN
    assert refused(parse_fen, 0) == "bad_fen"
    assert refused(parse_fen, MAX_BILL_FEN + 1) == "bad_fen"


def test_an_id_fits_the_database_key():
    assert parse_id("2147483647") == 2**31 - 1
    assert refused(parse_id, "2147483648") == "bad_id"
    assert refused(parse_id, "0") == "bad_id"
    assert optional_id("99999999999999999999") is None
    assert optional_id("") is None
    assert optional_id("42") == 42


def test_money_typed_by_a_person_is_bounded_before_it_is_read():
    assert parse_yuan("¥12.30") == 1230
    assert parse_yuan("１２３") == 12300
    assert refused(parse_yuan, "1" * 5000) == "bad_money"
    assert refused(parse_yuan, "٣") == "bad_money"
    error = pytest.raises(InputError, parse_yuan, "12.345")
    assert "两位小数" in chinese(error.value)


@pytest.mark.parametrize(
    "text", ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01", "2026-02-30", "20260101", "²"]
)
def test_a_date_outside_what_the_product_means_is_bad_input(text):
    assert refused(parse_date, text) == "bad_date"
    assert optional_date(text) is None


def test_a_date_in_range_is_read():
    assert parse_date("2026-05-12") == date(2026, 5, 12)
    assert parse_date(" 2000-01-01 ") == date(2000, 1, 1)


def test_control_characters_are_taken_out_and_newlines_kept_where_a_field_is_multiline():
    assert clean_text("居民\x03乙") == "居民乙"
    assert clean_text("a\r\nb\x85\tc", multiline=True) == "a\nb c"
    assert clean_text("a\nb") == "a b"
    assert clean_text("\ud800x\ufffe") == "x"
    assert clean_text("\u202eRTL 😀 <b>") == "\u202eRTL 😀 <b>"
    assert printable("\x01abc") == "abc"


@given(st.text())
def test_cleaned_text_has_no_control_character(text):
    cleaned = clean_text(text, multiline=True)
    assert all(ch == "\n" or ch >= " " for ch in cleaned)
    assert "\x7f" not in cleaned and clean_text(cleaned, multiline=True) == cleaned


def test_json_depth_and_size_are_bounded_before_parsing():
    assert json_depth(b'{"a": "[[[[", "b": [[1]]}') == 3
    assert refused(load_json_object, b"[" * 1000 + b"]" * 1000) == "json_too_deep"
    assert refused(load_json_object, b'{"a": "' + b"x" * 70_000 + b'"}') == "json_too_large"
    assert refused(load_json_object, b'{"a": ' + b"1" * 5000 + b"}") == "bad_json"
    assert refused(load_json_object, b'{"a": NaN}') == "bad_json"
    assert refused(load_json_object, b"[1]") == "bad_json"
    assert refused(load_json_object, b"\xff") == "bad_json"
    assert load_json_object(b'{"bill_fen": 7287.0}') == {"bill_fen": Decimal("7287.0")}


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%5Cevil.example",
        "/%2F/evil.example",
        "%2F%2Fevil.example",
        "https://evil.example/",
        "HTTPS:evil.example",
        "javascript:alert(1)",
        "evil.example",
        " //evil.example",
        "\x00//evil.example",
        "/\x0b/evil.example",
        "",
        None,
        "/" + "a" * 3000,
    ],
)
def test_a_redirect_target_off_this_site_is_refused(target):
    assert local_path(target) is None


@pytest.mark.parametrize(
    "target", ["/", "/admin/", "/c/abc?x=1#top", "/s/zijinghua?cat=餐饮", "/a/b%20c"]
)
def test_a_path_on_this_site_is_kept(target):
    assert local_path(target) == target


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("1.5", 90),
        ("1,25", 75),
        ("２", 120),
        ("2小时", 120),
        ("1.234", None),
        ("1e99999", None),
        ("9" * 5000, None),
        ("", None),
    ],
)
def test_hours_are_read_to_the_minute_and_a_typing_mistake_is_refused(typed, minutes):
    assert parse_hours(typed) == minutes


@pytest.mark.parametrize("value", ["9" * 20, "-1", "0", "", "1e9", "٣", None, "2147483648", 10**30])
def test_a_chosen_id_out_of_a_key_s_range_reads_as_no_choice(value):
    """A select's id: a number too big for the database's keys reached SQLite as an
    OverflowError (500) before it was bounded."""
    from app.admin.forms import choice_id

    assert choice_id(value) == 0


def test_a_chosen_id_in_range_is_read():
    from app.admin.forms import choice_id

    assert (choice_id("17"), choice_id(17), choice_id("2147483647")) == (17, 17, 2147483647)
