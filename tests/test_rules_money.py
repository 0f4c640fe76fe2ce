"""Money typed by people (parse_money) and money shown to them (format_money)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules import MAX_BILL_FEN, MoneyError, format_money, parse_money

from .catalogue import chinese

settings.register_profile("linli-rules", max_examples=200, deadline=None)
RULES_PROFILE = settings.get_profile("linli-rules")

PARSED = [
    ("123.45", 12345),
    ("¥123.45", 12345),
    ("￥123.45", 12345),
    ("123.45元", 12345),
    ("¥ 123.45 元", 12345),
    ("１２３", 12300),
    ("１２３．４５", 12345),
    ("100", 10000),
    (" 12.3 ", 1230),
    ("\u300012.3\u3000", 1230),
    ("0", 0),
    ("0.00", 0),
    ("0.01", 1),
    ("0.1", 10),
    (".5", 50),
    ("5.", 500),
    ("007", 700),
    ("5块", 500),
    ("1000000", MAX_BILL_FEN),
    ("1000000.00", MAX_BILL_FEN),
]


@pytest.mark.parametrize(("text", "fen"), PARSED, ids=[t for t, _ in PARSED])
def test_parse_money_reads_yuan_into_fen(text, fen):
    assert parse_money(text) == fen


REFUSED = [
    ("", "请输入金额"),
    ("   ", "请输入金额"),
    ("¥", "请输入金额"),
    ("元", "请输入金额"),
    ("1.234", "金额最多两位小数"),
    ("0.001", "金额最多两位小数"),
    ("12.300", "金额最多两位小数"),
    ("-1", "金额不能为负数"),
    ("-0.50", "金额不能为负数"),
    ("¥-5", "金额不能为负数"),
    ("1000000.01", "金额不能超过1000000元"),
    ("99999999999", "金额不能超过1000000元"),
    ("9" * 5000, "金额不能超过1000000元"),
    ("abc", "看不懂这个金额“abc”"),
    ("NaN", "看不懂这个金额"),
    ("nan", "看不懂这个金额"),
    ("inf", "看不懂这个金额"),
    ("Infinity", "看不懂这个金额"),
    ("1e5", "看不懂这个金额"),
    ("1E2", "看不懂这个金额"),
    ("+5", "看不懂这个金额"),
    ("1,000", "看不懂这个金额"),
    ("1 000", "看不懂这个金额"),
    ("1.2.3", "看不懂这个金额"),
    (".", "看不懂这个金额"),
    ("0x10", "看不懂这个金额"),
    ("一百", "看不懂这个金额"),
    ("١٢٣", "看不懂这个金额"),  # Arabic-Indic digits, which Decimal() would accept
    ("12_000", "看不懂这个金额"),
    ("¥¥5", "看不懂这个金额"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[t[:12] for t, _ in REFUSED])
def test_parse_money_refuses_with_a_chinese_message(text, message):
    with pytest.raises(MoneyError) as caught:
        parse_money(text)
    assert message in chinese(caught.value)
    assert isinstance(caught.value, ValueError)


def test_parse_money_shortens_a_long_unreadable_text_in_its_message():
    with pytest.raises(MoneyError) as caught:
        parse_money("x" * 100)
    assert len(chinese(caught.value)) < 40


def test_parse_money_refuses_a_non_string():
    with pytest.raises(TypeError):
        parse_money(12345)


FORMATTED = [
    (0, "0.00"),
    (5, "0.05"),
    (50, "0.50"),
    (100, "1.00"),
    (12345, "123.45"),
    (-1, "-0.01"),
    (-100, "-1.00"),
    (-12345, "-123.45"),
    (MAX_BILL_FEN, "1000000.00"),
]


@pytest.mark.parametrize(("fen", "text"), FORMATTED, ids=[t for _, t in FORMATTED])
def test_format_money_always_shows_two_decimals(fen, text):
    assert format_money(fen) == text


@pytest.mark.parametrize("fen", [True, 1.5, "100", None])
def test_format_money_refuses_anything_but_an_int(fen):
    with pytest.raises(TypeError):
        format_money(fen)


@RULES_PROFILE
@given(st.integers(0, MAX_BILL_FEN))
def test_formatted_money_parses_back_to_the_same_fen(fen):
    assert parse_money(format_money(fen)) == fen


@RULES_PROFILE
@given(
    st.integers(0, MAX_BILL_FEN),
    st.sampled_from(["", "¥", "￥", "¥ "]),
    st.sampled_from(["", "元", " 元", "块"]),
    st.booleans(),
)
def test_decorated_money_reads_the_same(fen, before, after, full_width):
    text = format_money(fen)
    if full_width:
        text = text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert parse_money(f" {before}{text}{after} ") == fen


@RULES_PROFILE
@given(
    st.integers(0, 1_000_000),
    st.text(alphabet="0123456789", min_size=3, max_size=8),
)
def test_parse_money_refuses_more_than_two_decimals(yuan, decimals):
    with pytest.raises(MoneyError) as caught:
        parse_money(f"{yuan}.{decimals}")
    assert (caught.value.code, chinese(caught.value)) == ("too_many_decimals", "金额最多两位小数")


@RULES_PROFILE
@given(st.integers(MAX_BILL_FEN + 1, 10 * MAX_BILL_FEN))
def test_parse_money_refuses_more_than_the_maximum_bill(fen):
    with pytest.raises(MoneyError) as caught:
        parse_money(format_money(fen))
    assert (caught.value.code, chinese(caught.value)) == ("amount_too_big", "金额不能超过1000000元")


@RULES_PROFILE
@given(st.text(max_size=20))
def test_parse_money_gives_fen_in_range_or_a_money_error(text):
    try:
        fen = parse_money(text)
    except MoneyError as error:
        assert error.code and chinese(error)
    else:
        assert 0 <= fen <= MAX_BILL_FEN
