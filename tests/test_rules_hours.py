"""Days and hours of use in a rule: 周一至周五可用, 每天10:00-14:00 (Asia/Shanghai)."""

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clock import LOCAL
from app.rules import Flat, Percent, Rule, RuleError, parse_rule

WEEKDAY_NOON = datetime(2026, 12, 4, 12, 0, tzinfo=LOCAL)  # a Friday


@pytest.mark.parametrize(
    ("text", "days", "hours", "canonical"),
    [
        ("周一至周五可用，8折", {0, 1, 2, 3, 4}, None, "8折，周一至周五可用"),
        ("工作日 8折", {0, 1, 2, 3, 4}, None, "8折，周一至周五可用"),
        ("星期一到星期五 8折", {0, 1, 2, 3, 4}, None, "8折，周一至周五可用"),
        ("周末可用，立减5元", {5, 6}, None, "立减5，周六日可用"),
        ("周一三五可用 8折", {0, 2, 4}, None, "8折，周一三五可用"),
        ("满100减10，每天10:00-14:00", None, (600, 840), "满100减10，每天10:00-14:00"),
        ("8折 每天９：３０－１１：００", None, (570, 660), "8折，每天9:30-11:00"),
        ("8折，每天9点半到11点可用", None, (570, 660), "8折，每天9:30-11:00"),
        ("8折 10:00-24:00", None, (600, 1440), "8折，每天10:00-24:00"),
        (
            "周一至周五可用，每天10:00-14:00，满50可用，8折",
            {0, 1, 2, 3, 4},
            (600, 840),
            "满50可用，8折，周一至周五可用，每天10:00-14:00",
        ),
    ],
)
def test_days_and_hours_are_read_and_said_back_the_same_way(text, days, hours, canonical):
    rule = parse_rule(text)
    assert rule.days == (frozenset(days) if days else None)
    assert rule.hours == hours
    assert rule.render() == canonical
    assert parse_rule(rule.render()) == rule
    assert Rule.from_dict(rule.to_dict()) == rule


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("周五至周一 8折", "days_backwards", "从前往后"),
        ("周 8折", "unexpected", "周几"),
        ("8折 每天14:00-10:00", "hours_order", "早于结束"),
        ("8折 每天10:00", "cut_short", "到几点"),
        ("周一至周日可用 8折", "days_every", "每天都可用"),
        ("8折 25:00-26:00", "bad_time", "看不懂时间"),
        ("8折 周一可用 周二可用", "repeated", "重复"),
        ("8折 每天0:00-24:00", "hours_all_day", "全天可用"),
        ("周一一 8折", "day_twice", "两次"),
    ],
)
def test_impossible_days_and_hours_are_refused_saying_why_in_chinese(app, text, code, says):
    from flask_babel import force_locale, gettext

    from app.rules import fill

    with pytest.raises(RuleError) as e:
        parse_rule(text)
    assert e.value.code == code
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        said = fill(e.value.message, e.value.details, e.value.position, gettext)
    assert says in said, said


def test_a_rule_without_days_or_hours_keeps_its_old_dict():
    assert set(parse_rule("8折").to_dict()) == {
        "v",
        "kind",
        "pay_permille",
        "cap_fen",
        "min_bill_fen",
    }


@pytest.mark.parametrize(
    "data",
    [
        {"days": [7]},
        {"days": [0, 0]},
        {"days": [True]},
        {"days": "0"},
        {"hours": [600]},
        {"hours": [840, 600]},
        {"hours": [600, 1441]},
        {"hours": [600.0, 840]},
    ],
)
def test_bad_days_or_hours_in_stored_data_are_refused(data):
    with pytest.raises(RuleError):
        Rule.from_dict({**parse_rule("8折").to_dict(), **data})


# --- at the till: edges of a window in Asia/Shanghai ------------------------------------------

LUNCH = parse_rule("8折，周一至周五可用，每天10:00-14:00")


@pytest.mark.parametrize(
    ("moment", "usable"),
    [
        (datetime(2026, 12, 4, 9, 59, tzinfo=LOCAL), False),
        (datetime(2026, 12, 4, 10, 0, tzinfo=LOCAL), True),
        (datetime(2026, 12, 4, 13, 59, tzinfo=LOCAL), True),
        (datetime(2026, 12, 4, 14, 0, tzinfo=LOCAL), False),  # until 14:00, not through it
        (datetime(2026, 12, 5, 12, 0, tzinfo=LOCAL), False),  # Saturday
    ],
)
def test_a_lunchtime_weekday_rule_is_usable_inside_its_window_only(moment, usable):
    assert LUNCH.usable_at(moment) is usable


def test_the_next_usable_moment_is_the_next_opening_on_an_allowed_day():
    friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=LOCAL)
    assert LUNCH.next_usable(friday_evening) == datetime(2026, 12, 7, 10, 0, tzinfo=LOCAL)
    early = datetime(2026, 12, 4, 8, 0, tzinfo=LOCAL)
    assert LUNCH.next_usable(early) == datetime(2026, 12, 4, 10, 0, tzinfo=LOCAL)
    assert LUNCH.next_usable(WEEKDAY_NOON) == WEEKDAY_NOON


def test_a_rule_without_hours_is_usable_at_any_time():
    assert parse_rule("8折").usable_at(datetime(2026, 12, 6, 3, 0, tzinfo=LOCAL))


def test_the_explanation_says_when():
    assert LUNCH.explain() == "打8折；周一至周五 10:00-14:00可用"
    assert LUNCH.when_text() == "周一至周五 10:00-14:00"


@given(
    days=st.none() | st.frozensets(st.integers(0, 6), min_size=1, max_size=6),
    start=st.integers(0, 23 * 60 + 59),
    length=st.integers(1, 24 * 60),
    use_hours=st.booleans(),
    benefit=st.sampled_from([Percent(800), Flat(500)]),
)
def test_any_days_and_hours_round_trip_through_text_and_dict(
    days, start, length, use_hours, benefit
):
    end = min(start + length, 24 * 60)
    hours = (start, end) if use_hours and (start, end) != (0, 24 * 60) else None
    rule = Rule(benefit, days=days, hours=hours)
    assert parse_rule(rule.render()) == rule
    assert Rule.from_dict(rule.to_dict()) == rule


def test_the_structured_editor_keeps_days_and_hours():
    from app.services.rule_editor import fields_of, rule_from_fields

    fields = fields_of(LUNCH)
    assert fields["when"] == "周一至周五可用，每天10:00-14:00"
    assert rule_from_fields(fields) == LUNCH
    with pytest.raises(RuleError):
        rule_from_fields({**fields, "when": "周" * 61})
