"""Properties of the rule engine over generated rules and bills (hypothesis)."""

import json
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules import (
    MAX_BILL_FEN,
    Flat,
    Percent,
    PerStep,
    Rule,
    RuleError,
    ThresholdPercent,
    Tier,
    Tiers,
    parse_rule,
)

settings.register_profile("linli-rules", max_examples=200, deadline=None)
RULES_PROFILE = settings.get_profile("linli-rules")

# Amounts: any fen, whole yuan (what shops write), and small ones (edge rounding).
amounts = st.one_of(
    st.integers(1, MAX_BILL_FEN),
    st.integers(1, 10_000).map(lambda yuan: yuan * 100),
    st.integers(1, 1_000),
)
rates = st.integers(1, 999)
bills = st.one_of(
    st.integers(0, MAX_BILL_FEN),
    st.integers(0, 100_000),
    st.integers(0, 2_000).map(lambda yuan: yuan * 100),
)
maybe_amount = st.none() | amounts


@st.composite
def tiers(draw):
    """Draw 1-4 tiers rising strictly in threshold and in discount, each below its threshold."""
    thresholds = sorted(draw(st.sets(st.integers(2, MAX_BILL_FEN), min_size=1, max_size=4)))
    chosen, last_off = [], 0
    for threshold in thresholds:
        # last_off < previous threshold < threshold, so this range is never empty
        off = draw(st.integers(last_off + 1, threshold - 1))
        chosen.append(Tier(threshold, off))
        last_off = off
    return Tiers(tuple(draw(st.permutations(chosen))))


@st.composite
def per_steps(draw):
    step = draw(st.integers(2, MAX_BILL_FEN) | st.integers(2, 500).map(lambda y: y * 100))
    return PerStep(step, draw(st.integers(1, step - 1)))


benefits = st.one_of(
    st.builds(Percent, rates),
    tiers(),
    per_steps(),
    st.builds(Flat, amounts),
    st.builds(ThresholdPercent, amounts, rates),
)


@st.composite
def rules(draw, benefit=benefits):
    """Draw a valid Rule object: a benefit, a cap where one can matter, maybe a minimum bill."""
    chosen = draw(benefit)
    cap = None
    if isinstance(chosen, Percent | ThresholdPercent):
        cap = draw(maybe_amount)
    elif isinstance(chosen, PerStep):
        cap = draw(st.none() | st.integers(chosen.off_fen, MAX_BILL_FEN))
    return Rule(chosen, cap_fen=cap, min_bill_fen=draw(maybe_amount))


def percent_off(bill, pay_permille):
    """The exact percentage discount, rounded half-up with Decimal."""
    exact = Decimal(bill) * (1000 - pay_permille) / 1000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@RULES_PROFILE
@given(rules(), bills)
def test_discount_is_never_negative_nor_more_than_the_bill(rule, bill):
    discount = rule.discount(bill)
    assert 0 <= discount <= bill
    quote = rule.quote(bill)
    assert quote.discount_fen == discount
    assert quote.bill_fen == quote.discount_fen + quote.pay_fen


@RULES_PROFILE
@given(rules(), bills, st.integers(0, 100_000))
def test_a_bigger_bill_never_gets_a_smaller_discount(rule, bill, extra):
    assert rule.discount(bill) <= rule.discount(bill + extra)


@RULES_PROFILE
@given(rules(), bills)
def test_below_the_minimum_bill_there_is_no_discount(rule, bill):
    if rule.min_bill_fen is not None and bill < rule.min_bill_fen:
        assert rule.discount(bill) == 0
    else:
        without_minimum = Rule(rule.benefit, cap_fen=rule.cap_fen)
        assert rule.discount(bill) == without_minimum.discount(bill)


@RULES_PROFILE
@given(rules())
def test_render_parses_back_to_the_same_rule(rule):
    text = rule.render()
    assert parse_rule(text) == rule
    assert parse_rule(text).render() == text


@RULES_PROFILE
@given(rules(), st.data())
def test_parts_read_the_same_in_any_order_and_with_any_separator(rule, data):
    parts = data.draw(st.permutations(rule.render().split("，")))
    separators = [",", "，", ";", "；", "、", " ", "\u3000", ", "]
    text = parts[0]
    for part in parts[1:]:
        # no separator at all is fine, unless two numbers would run together (最高减208折)
        text += data.draw(st.sampled_from(separators + ([] if part[0].isdigit() else [""])))
        text += part
    assert parse_rule(text) == rule


@RULES_PROFILE
@given(rules())
def test_full_width_text_reads_the_same(rule):
    text = rule.render().translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert parse_rule(text) == rule


@RULES_PROFILE
@given(rules())
def test_to_dict_is_plain_json_and_reads_back(rule):
    data = rule.to_dict()
    assert data["v"] == 1
    assert json.loads(json.dumps(data)) == data
    assert Rule.from_dict(json.loads(json.dumps(data))) == rule


@RULES_PROFILE
@given(rates, bills, maybe_amount, maybe_amount)
def test_percentage_matches_exact_decimal_rounded_half_up(pay_permille, bill, cap, min_bill):
    rule = Rule(Percent(pay_permille), cap_fen=cap, min_bill_fen=min_bill)
    expected = percent_off(bill, pay_permille)
    if cap is not None:
        expected = min(expected, cap)
    if min_bill is not None and bill < min_bill:
        expected = 0
    assert rule.discount(bill) == expected


@RULES_PROFILE
@given(amounts, rates, bills)
def test_threshold_percentage_is_nothing_below_and_the_whole_bill_above(threshold, rate, bill):
    rule = Rule(ThresholdPercent(threshold, rate))
    expected = percent_off(bill, rate) if bill >= threshold else 0
    assert rule.discount(bill) == expected


@RULES_PROFILE
@given(per_steps(), bills)
def test_per_step_takes_off_once_per_full_step(per_step, bill):
    full_steps = Decimal(bill) / Decimal(per_step.step_fen)
    expected = int(full_steps.to_integral_value(rounding=ROUND_FLOOR)) * per_step.off_fen
    assert Rule(per_step).discount(bill) == min(expected, bill)


@RULES_PROFILE
@given(tiers(), bills)
def test_tiers_give_the_best_tier_reached(chosen, bill):
    discount = Rule(chosen).discount(bill)
    singles = [Rule(Tiers((tier,))).discount(bill) for tier in chosen.tiers]
    assert all(discount >= single for single in singles)
    assert discount in singles


@RULES_PROFILE
@given(amounts, bills)
def test_flat_takes_off_the_amount_but_never_more_than_the_bill(off, bill):
    assert Rule(Flat(off)).discount(bill) == min(off, bill)


DIGITS = "零一二三四五六七八九"


def chinese(n):
    """Write 0 < n <= 1,000,000 in Chinese numerals (一十五, 一千零二十, 一百万)."""

    def below_ten_thousand(m):
        out, gap = "", False
        for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = m // value % 10
            if digit == 0:
                gap = bool(out)
                continue
            out += ("零" if gap else "") + DIGITS[digit] + unit
            gap = False
        return out

    high, low = divmod(n, 10_000)
    if not high:
        return below_ten_thousand(low)
    text = below_ten_thousand(high) + "万"
    if low:
        text += ("零" if low < 1000 else "") + below_ten_thousand(low)
    return text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (15, "一十五"),
        (105, "一百零五"),
        (1020, "一千零二十"),
        (10005, "一万零五"),
        (10**6, "一百万"),
    ],
)
def test_the_test_helper_writes_chinese_numerals(n, text):
    assert chinese(n) == text


@RULES_PROFILE
@given(st.integers(2, 1_000_000))
def test_chinese_numerals_read_as_their_value(yuan):
    assert parse_rule(f"满{chinese(yuan)}减一") == Rule(Tiers((Tier(yuan * 100, 100),)))


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("十", 1000),
        ("十五", 1500),
        ("二十", 2000),
        ("一百五", 15000),
        ("两百五", 25000),
        ("一千二", 120000),
        ("一万五", 1500000),
        ("十万", 10000000),
        ("一百零五", 10500),
        ("九十九点五", 9950),
        ("零点五", 50),
        ("一零零", 10000),
    ],
)
def test_spoken_chinese_amounts(text, fen):
    assert parse_rule(f"满{text}减0.01").benefit.tiers[0].threshold_fen == fen


RULE_ALPHABET = (
    "0123456789.,;、 \u3000，；¥￥元块"
    "满减每打折享最高多封顶可用立无门槛送x"
    "一二两三四五六七八九十百千万零点"
)


@RULES_PROFILE
@given(st.text(alphabet=RULE_ALPHABET, max_size=24) | st.text(max_size=24))
def test_any_text_gives_a_rule_or_a_rule_error_pointing_inside_it(text):
    try:
        rule = parse_rule(text)
    except RuleError as error:
        assert error.position is None or 1 <= error.position <= len(text)
    else:
        assert parse_rule(rule.render()) == rule
