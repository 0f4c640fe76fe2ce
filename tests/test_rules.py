"""The discount rule engine through its public surface: texts, discounts, refusals, dicts."""

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.rules import (
    MAX_BILL_FEN,
    RULE_EXAMPLES,
    MoneyError,
    Quote,
    Rule,
    RuleError,
    parse_rule,
    preview,
)

from .catalogue import chinese

RULES_PY = Path(__file__).resolve().parents[1] / "app" / "rules.py"

BILLS = (0, 1, 4999, 5000, 9999, 10000, 18800, 20000)

# Discounts in fen on each of BILLS, worked out by hand.
EIGHT = (0, 0, 1000, 1000, 2000, 2000, 3760, 4000)  # 20% off, half-up: 4999 -> 999.8 -> 1000
EIGHT_FIVE = (0, 0, 750, 750, 1500, 1500, 2820, 3000)  # 15%: 4999 -> 749.85 -> 750
NINE_FIVE = (0, 0, 250, 250, 500, 500, 940, 1000)  # 5%: 4999 -> 249.95 -> 250
NINE = (0, 0, 500, 500, 1000, 1000, 1880, 2000)
SEVEN_FIVE = (0, 0, 1250, 1250, 2500, 2500, 4700, 5000)
SIX = (0, 0, 2000, 2000, 4000, 4000, 7520, 8000)
FIVE = (0, 1, 2500, 2500, 5000, 5000, 9400, 10000)  # 1 fen -> 0.5 -> 1 (half up)
ONE = (0, 1, 4499, 4500, 8999, 9000, 16920, 18000)  # 90%: 4999 -> 4499.1 -> 4499
EIGHT_EIGHT_EIGHT = (0, 0, 560, 560, 1120, 1120, 2106, 2240)  # 11.2%: 18800 -> 2105.6 -> 2106
ZERO_ZERO_ONE = (0, 1, 4994, 4995, 9989, 9990, 18781, 19980)  # 99.9%: 18800 -> 18781.2
OFF_10_FROM_100 = (0, 0, 0, 0, 0, 1000, 1000, 1000)
TIERS_100_200 = (0, 0, 0, 0, 0, 1000, 1000, 3000)
PER_100_10 = (0, 0, 0, 0, 0, 1000, 1000, 2000)
FLAT_5 = (0, 1, 500, 500, 500, 500, 500, 500)
EIGHT_CAP_20 = (0, 0, 1000, 1000, 2000, 2000, 2000, 2000)
MIN_50_EIGHT = (0, 0, 0, 1000, 2000, 2000, 3760, 4000)
NINE_FROM_200 = (0, 0, 0, 0, 0, 0, 0, 2000)

ACCEPTED = [
    # percentage
    ("8折", EIGHT),
    ("8.5折", EIGHT_FIVE),
    ("85折", EIGHT_FIVE),
    ("95折", NINE_FIVE),
    ("八折", EIGHT),
    ("八五折", EIGHT_FIVE),
    ("九五折", NINE_FIVE),
    ("打8折", EIGHT),
    ("打九折", NINE),
    ("6折", SIX),
    ("七五折", SEVEN_FIVE),
    ("75折", SEVEN_FIVE),
    ("5折", FIVE),
    ("1折", ONE),
    ("8.88折", EIGHT_EIGHT_EIGHT),
    ("0.01折", ZERO_ZERO_ONE),
    ("九点五折", NINE_FIVE),
    ("８．５折", EIGHT_FIVE),
    (" 打 8 折 ", EIGHT),
    # one-off 满减
    ("满100减10", OFF_10_FROM_100),
    ("满100元减10元", OFF_10_FROM_100),
    ("满一百减十", OFF_10_FROM_100),
    ("满100块减10块", OFF_10_FROM_100),
    ("满100块钱减10块钱", OFF_10_FROM_100),
    ("满¥100减￥10", OFF_10_FROM_100),
    ("满１００减１０", OFF_10_FROM_100),
    ("满 100 减 10", OFF_10_FROM_100),
    ("满99.5减10", (0, 0, 0, 0, 1000, 1000, 1000, 1000)),
    ("满99.99减0.01", (0, 0, 0, 0, 1, 1, 1, 1)),
    ("满50减5", (0, 0, 0, 500, 500, 500, 500, 500)),
    ("满一百五十减二十", (0, 0, 0, 0, 0, 0, 2000, 2000)),
    ("满两百减三十", (0, 0, 0, 0, 0, 0, 0, 3000)),
    # tiers: the best tier reached
    ("满100减10,满200减30", TIERS_100_200),
    ("满100减10，满200减30", TIERS_100_200),
    ("满100减10;满200减30", TIERS_100_200),
    ("满100减10；满200减30", TIERS_100_200),
    ("满100减10、满200减30", TIERS_100_200),
    ("满100减10 满200减30", TIERS_100_200),
    ("满200减30,满100减10", TIERS_100_200),
    ("满50减5,满100减10,满188减20", (0, 0, 0, 500, 500, 1000, 2000, 2000)),
    # per full step
    ("每满100减10", PER_100_10),
    ("每满一百减十", PER_100_10),
    ("每满50减5", (0, 0, 0, 500, 500, 1000, 1500, 2000)),
    # flat, never more than the bill
    ("立减5元", FLAT_5),
    ("减5元", FLAT_5),
    ("无门槛减5", FLAT_5),
    ("无门槛立减5元", FLAT_5),
    ("立减5", FLAT_5),
    ("立减188", (0, 1, 4999, 5000, 9999, 10000, 18800, 18800)),
    # threshold percentage
    ("满200打9折", NINE_FROM_200),
    ("满200享9折", NINE_FROM_200),
    ("满200元9折", NINE_FROM_200),
    ("满两百打九折", NINE_FROM_200),
    ("满100打8折", (0, 0, 0, 0, 0, 2000, 3760, 4000)),
    # caps
    ("8折,最高减20", EIGHT_CAP_20),
    ("八折，最多减20元", EIGHT_CAP_20),
    ("8折 封顶20元", EIGHT_CAP_20),
    ("8折,最高优惠20元", EIGHT_CAP_20),
    ("8折最高减20", EIGHT_CAP_20),
    ("7.5折,最高减30", (0, 0, 1250, 1250, 2500, 2500, 3000, 3000)),
    ("每满100减10,封顶50", PER_100_10),
    ("每满50减10,封顶25", (0, 0, 0, 1000, 1000, 2000, 2500, 2500)),
    ("满100打8折,最高减30", (0, 0, 0, 0, 0, 2000, 3000, 3000)),
    ("满100享8折 最多减30元", (0, 0, 0, 0, 0, 2000, 3000, 3000)),
    # minimum bill, with any rule, before or after
    ("满50可用,8折", MIN_50_EIGHT),
    ("8折 满50可用", MIN_50_EIGHT),
    ("满50元可用，8折", MIN_50_EIGHT),
    ("满50可用,立减5", (0, 0, 0, 500, 500, 500, 500, 500)),
    ("满50可用,满100减10", OFF_10_FROM_100),
    ("满50可用,满100减10,满200减30", TIERS_100_200),
    ("满50可用,每满100减10,封顶50", PER_100_10),
    ("满150可用,8折,最高减20", (0, 0, 0, 0, 0, 0, 2000, 2000)),
    ("满100可用,满200打9折", NINE_FROM_200),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted_text_gives_the_expected_discounts(text, expected):
    rule = parse_rule(text)
    assert tuple(rule.discount(bill) for bill in BILLS) == expected


REFUSED = [
    # rates
    ("0折", "0折", 1),
    ("10折", "不打折", 1),
    ("十折", "不打折", 1),
    ("11折", "1.1折", 1),
    ("100折", "小于10折", 1),
    ("888折", "小于10折", 1),
    ("8.885折", "两位小数", 1),
    ("05折", "0.5折", 1),
    ("满200打10折", "不打折", 6),
    # amounts
    ("满100减100", "减的金额要小于满的金额", 1),
    ("满100减200", "减的金额要小于满的金额", 1),
    ("每满100减100", "每次减的金额要小于每满的金额", 1),
    ("满2000000减10", "不能超过1000000元", 2),
    ("每满100减10000000", "不能超过1000000元", 7),
    ("满100.123减10", "两位小数", 2),
    ("满0可用,8折", "大于0", 1),
    ("立减0", "大于0", 1),
    ("8折,最高减0", "大于0", 4),
    ("满1,000减10", "逗号", 3),
    # tiers must rise in threshold and in discount
    ("满100减10,满200减10", "门槛越高减得越多", None),
    ("满100减30,满200减20", "门槛越高减得越多", None),
    ("满100减10,满100减20", "门槛一样", None),
    # the same part twice, or two kinds of benefit
    ("8折,9折", "9折", 4),
    ("8折,最高减20,最高减30", "重复", 10),
    ("满50可用,满60可用,8折", "重复", 7),
    ("满100减10,8折", "只能有一种优惠", 9),
    ("8折,满100减10", "只能有一种优惠", 4),
    ("立减5,8折", "只能有一种优惠", 5),
    # caps where they cannot matter, or below one step
    ("立减5,最高减2", "不起作用", 5),
    ("满100减10,最高减5", "不起作用", 9),
    ("满100减10,满200减30,封顶50", "不起作用", 17),
    ("每满100减10,封顶5", "还少", 10),
    # nothing, or no benefit
    ("", "请写优惠规则", None),
    ("   ", "请写优惠规则", None),
    ("\u3000，、；", "请写优惠规则", None),
    ("满50可用", "还要写优惠", None),
    ("最高减20", "还要写优惠", None),
    # unknown words and dangling pieces
    ("8折送饮料", "看不懂“送饮料”", 3),
    ("满100 送饮料", "看不懂“送饮料”", 6),
    ("满100", "“满100”后面要写减多少或打几折", 1),
    ("满100减", "“满100减”后面要写金额", 1),
    ("每满100", "“每满100”后面要写减多少", 1),
    ("减", "“减”后面要写金额", 1),
    ("最高减", "“最高减”后面要写金额", 1),
    ("打", "“打”后面要写几折", 1),
    ("8", "“8”后面要写“折”", 1),
    ("100减10", "满…减…", 4),
    ("满100减减10", "看不懂“减10”", 6),
    ("五五十折", "五五十", 1),
]


@pytest.mark.parametrize(("text", "fragment", "position"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_text_says_what_and_where(text, fragment, position):
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    error = caught.value
    assert fragment in chinese(error)
    assert error.position == position
    assert error.code.isidentifier() and error.code.islower()
    if position is None:
        assert "个字附近" not in chinese(error)
    else:
        assert chinese(error) == f"第{position}个字附近: {chinese(error.unplaced())}"
        assert str(error) == f"near character {position}: {error.reason}"


def test_two_percentages_name_both_parts():
    with pytest.raises(RuleError) as caught:
        parse_rule("8折,9折")
    assert caught.value.code == "two_benefits"
    assert "已经有“8折”，不能再加“9折”" in chinese(caught.value)
    assert "There is already “8折”, so “9折” cannot be added" in str(caught.value)


def test_position_counts_characters_as_typed_with_full_width_forms():
    with pytest.raises(RuleError) as caught:
        parse_rule("８折，　送饮料")
    assert caught.value.position == 5


def test_rule_error_is_a_value_error_and_copies_with_its_position():
    with pytest.raises(ValueError) as caught:
        parse_rule("8折送饮料")
    copied = copy.deepcopy(caught.value)
    assert (copied.position, str(copied)) == (3, str(caught.value))
    assert issubclass(MoneyError, ValueError)


def test_parse_rule_refuses_a_non_string():
    with pytest.raises(TypeError):
        parse_rule(800)


CANONICAL = [
    ("85折", "8.5折"),
    ("八折", "8折"),
    ("九五折", "9.5折"),
    ("打8.80折", "8.8折"),
    ("0.05折", "0.05折"),
    ("满一百减十", "满100减10"),
    ("满100.00元减10.50元", "满100减10.5"),
    ("满99.5减10", "满99.5减10"),
    ("满200减30;满100减10", "满100减10，满200减30"),
    ("每满100减10,封顶50", "每满100减10，最高减50"),
    ("无门槛减5元", "立减5"),
    ("减0.5元", "立减0.5"),
    ("满200元享9折", "满200打9折"),
    ("8折 满50元可用", "满50可用，8折"),
    ("最多优惠20元 八五折 满五十可用", "满50可用，8.5折，最高减20"),
    ("满一万减一千", "满10000减1000"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL, ids=[t for t, _ in CANONICAL])
def test_render_gives_the_canonical_text(text, canonical):
    rule = parse_rule(text)
    assert rule.render() == canonical
    assert str(rule) == canonical
    assert parse_rule(canonical) == rule


def test_differently_written_caps_render_the_same():
    assert parse_rule("八折，最多减20元").render() == parse_rule("8折,最高减20").render()


EXPLAINED = [
    ("8折,最高减20", "打8折，最多优惠20元"),
    ("满100减10", "消费满100元减10元"),
    ("满50可用,每满100减10", "满50元可用；每满100元减10元"),
    ("满100减10,满200减30", "消费满100元减10元，满200元减30元（按达到的最高一档优惠，不叠加）"),
    ("立减5", "立减5元"),
    ("满200打9.5折", "消费满200元打9.5折"),
    ("每满100减10,封顶50", "每满100元减10元，最多优惠50元"),
]


@pytest.mark.parametrize(("text", "sentence"), EXPLAINED, ids=[t for t, _ in EXPLAINED])
def test_explain_says_the_rule_plainly(text, sentence):
    assert parse_rule(text).explain() == sentence


DICTS = [
    (
        "8折,最高减20",
        {"v": 1, "kind": "percent", "pay_permille": 800, "cap_fen": 2000, "min_bill_fen": None},
    ),
    (
        "满100减10,满200减30",
        {
            "v": 1,
            "kind": "tiers",
            "tiers": [
                {"threshold_fen": 10000, "off_fen": 1000},
                {"threshold_fen": 20000, "off_fen": 3000},
            ],
            "cap_fen": None,
            "min_bill_fen": None,
        },
    ),
    (
        "满50可用,每满100减10",
        {
            "v": 1,
            "kind": "per_step",
            "step_fen": 10000,
            "off_fen": 1000,
            "cap_fen": None,
            "min_bill_fen": 5000,
        },
    ),
    (
        "立减5",
        {"v": 1, "kind": "flat", "off_fen": 500, "cap_fen": None, "min_bill_fen": None},
    ),
    (
        "满200打8.88折",
        {
            "v": 1,
            "kind": "threshold_percent",
            "threshold_fen": 20000,
            "pay_permille": 888,
            "cap_fen": None,
            "min_bill_fen": None,
        },
    ),
]


@pytest.mark.parametrize(("text", "data"), DICTS, ids=[t for t, _ in DICTS])
def test_to_dict_gives_the_documented_shape_and_reads_back(text, data):
    rule = parse_rule(text)
    assert rule.to_dict() == data
    assert Rule.from_dict(json.loads(json.dumps(data))) == rule


def test_from_dict_accepts_missing_optional_keys_and_unsorted_tiers():
    data = {
        "v": 1,
        "kind": "tiers",
        "tiers": [
            {"threshold_fen": 20000, "off_fen": 3000},
            {"threshold_fen": 10000, "off_fen": 1000},
        ],
    }
    assert Rule.from_dict(data) == parse_rule("满100减10,满200减30")


PERCENT = {"v": 1, "kind": "percent", "pay_permille": 800, "cap_fen": None, "min_bill_fen": None}
PER_STEP = {"v": 1, "kind": "per_step", "step_fen": 10000, "off_fen": 1000}
BAD_DICTS = [
    ("not a dict", ["percent"], "JSON对象"),
    ("no version", {k: v for k, v in PERCENT.items() if k != "v"}, "版本"),
    ("version 2", {**PERCENT, "v": 2}, "版本"),
    ("version True", {**PERCENT, "v": True}, "版本"),
    ("unknown kind", {**PERCENT, "kind": "buy_one_get_one"}, "buy_one_get_one"),
    ("unknown key", {**PERCENT, "colour": "red"}, "colour"),
    ("key of another kind", {**PERCENT, "step_fen": 100}, "step_fen"),
    ("missing key", {"v": 1, "kind": "percent"}, "pay_permille"),
    ("string rate", {**PERCENT, "pay_permille": "800"}, "pay_permille要是整数"),
    ("bool rate", {**PERCENT, "pay_permille": True}, "pay_permille要是整数"),
    ("rate of 10折", {**PERCENT, "pay_permille": 1000}, "小于10折"),
    ("rate of 0折", {**PERCENT, "pay_permille": 0}, "大于0折"),
    ("negative cap", {**PERCENT, "cap_fen": -100}, "封顶金额要大于0"),
    ("decimal cap", {**PERCENT, "cap_fen": 20.5}, "cap_fen要是整数"),
    ("min bill zero", {**PERCENT, "min_bill_fen": 0}, "大于0"),
    ("min bill too big", {**PERCENT, "min_bill_fen": MAX_BILL_FEN + 1}, "不能超过1000000元"),
    ("tiers not a list", {"v": 1, "kind": "tiers", "tiers": "满100减10"}, "列表"),
    ("no tiers", {"v": 1, "kind": "tiers", "tiers": []}, "至少要有一档"),
    (
        "tier missing a key",
        {"v": 1, "kind": "tiers", "tiers": [{"threshold_fen": 10000}]},
        "第1档",
    ),
    (
        "tier off not below threshold",
        {"v": 1, "kind": "tiers", "tiers": [{"threshold_fen": 10000, "off_fen": 10000}]},
        "减的金额要小于满的金额",
    ),
    (
        "tiers not rising",
        {
            "v": 1,
            "kind": "tiers",
            "tiers": [
                {"threshold_fen": 10000, "off_fen": 3000},
                {"threshold_fen": 20000, "off_fen": 1000},
            ],
        },
        "门槛越高减得越多",
    ),
    (
        "cap on tiers",
        {
            "v": 1,
            "kind": "tiers",
            "tiers": [{"threshold_fen": 10000, "off_fen": 1000}],
            "cap_fen": 500,
        },
        "不起作用",
    ),
    ("cap on flat", {"v": 1, "kind": "flat", "off_fen": 500, "cap_fen": 100}, "不起作用"),
    ("cap below one step", {**PER_STEP, "cap_fen": 500}, "还少"),
    ("step off not below step", {**PER_STEP, "off_fen": 10000}, "每次减的金额要小于每满的金额"),
]


@pytest.mark.parametrize(
    ("data", "fragment"), [b[1:] for b in BAD_DICTS], ids=[b[0] for b in BAD_DICTS]
)
def test_from_dict_refuses_bad_data_in_chinese(data, fragment):
    with pytest.raises(RuleError) as caught:
        Rule.from_dict(data)
    assert fragment in chinese(caught.value)
    assert caught.value.position is None


@pytest.mark.parametrize("bill", [-1, True, "100", 1.5, None])
def test_discount_refuses_a_bill_that_is_not_a_non_negative_int(bill):
    with pytest.raises(ValueError):
        parse_rule("8折").discount(bill)


def test_quote_and_preview_show_bill_discount_and_pay():
    rule = parse_rule("8折,最高减20")
    assert rule.quote(18800) == Quote(bill_fen=18800, discount_fen=2000, pay_fen=16800)
    assert preview(parse_rule("8折"), 10000) == "账单 ¥100.00 → 优惠 ¥20.00，实付 ¥80.00"
    assert preview(parse_rule("立减5"), 1) == "账单 ¥0.01 → 优惠 ¥0.01，实付 ¥0.00"


def test_a_rule_is_frozen_and_hashable():
    rule = parse_rule("满100减10,满200减30")
    assert {rule, parse_rule("满200减30,满100减10")} == {rule}
    with pytest.raises(AttributeError):
        rule.cap_fen = 100


def test_rule_examples_are_a_dozen_valid_distinct_rules():
    rules = [parse_rule(text) for text in RULE_EXAMPLES]
    assert len(set(rules)) == len(RULE_EXAMPLES) >= 12
    assert {rule.kind for rule in rules} == {
        "percent",
        "tiers",
        "per_step",
        "flat",
        "threshold_percent",
    }


def test_max_bill_is_one_million_yuan():
    assert MAX_BILL_FEN == 100_000_000
    assert parse_rule("满1000000打9折").discount(MAX_BILL_FEN) == 10_000_000


def test_rules_module_has_no_binary_fraction_arithmetic():
    assert "float" not in RULES_PY.read_text(encoding="utf-8").lower()


def test_rules_module_imports_only_the_standard_library():
    # Load the file on its own: once merged, importing the app package itself imports Flask.
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        for name in ("flask", "werkzeug", "jinja2", "sqlalchemy", "flask_sqlalchemy"):
            sys.modules[name] = None  # importing any of them now fails
        before = set(sys.modules)
        spec = importlib.util.spec_from_file_location("rules_alone", {str(RULES_PY)!r})
        module = importlib.util.module_from_spec(spec)
        sys.modules["rules_alone"] = module
        spec.loader.exec_module(module)
        assert module.parse_rule("8折").discount(10000) == 2000
        loaded = {{name.partition(".")[0] for name in set(sys.modules) - before}}
        print(sorted(loaded - set(sys.stdlib_module_names) - {{"rules_alone"}}))
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter running our own snippet
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
