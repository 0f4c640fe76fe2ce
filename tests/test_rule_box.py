"""The rule box: the structured editor and the text round-trip, and the preview explains."""

import pytest
from hypothesis import given, settings

from app.rules import RuleError, parse_rule
from app.services.rule_editor import fields_of, rule_from_fields, sample_bills

from . import factories
from .catalogue import chinese
from .test_rules_properties import rules


@settings(max_examples=300, deadline=None)
@given(rules())
def test_every_rule_survives_the_editor_and_back(rule):
    assert rule_from_fields(fields_of(rule)) == rule


@pytest.mark.parametrize(
    "text",
    ["8折", "8.5折", "满100减10，满200减30", "每满100减10，最高减50", "立减5", "满200打9折",
     "满50可用，8折，最高减20", "满99.5减0.01"],
)  # fmt: skip
def test_the_editor_writes_back_the_canonical_text(text):
    assert rule_from_fields(fields_of(parse_rule(text))).render() == text


def test_the_editor_fills_its_fields_in_yuan_and_zhe():
    fields = fields_of(parse_rule("满50可用，8.5折，最高减20"))
    assert (fields["kind"], fields["rate"], fields["cap"], fields["min_bill"]) == (
        "percent",
        "8.5",
        "20",
        "50",
    )
    tiers = fields_of(parse_rule("满100减10,满200元减30元"))
    assert [tiers[k] for k in ("tier1_threshold", "tier1_off", "tier2_threshold", "tier2_off")] == [
        "100",
        "10",
        "200",
        "30",
    ]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"kind": "percent", "rate": ""}, "请填写打几折"),
        ({"kind": "percent", "rate": "10"}, "不打折"),
        ({"kind": "tiers", "tier1_threshold": "100"}, "第1档满减要同时写"),
        ({"kind": "tiers"}, "至少要写一档"),
        ({"kind": "tiers", "tier1_threshold": "100", "tier1_off": "100"}, "减的金额要小于满的金额"),
        ({"kind": "flat", "off": "abc"}, "立减金额"),
        ({"kind": "flat", "off": "5", "cap": "3"}, "封顶"),
        ({"kind": "nonsense"}, "请选择优惠方式"),
    ],
)
def test_an_editor_that_says_nothing_valid_is_refused_in_chinese_without_a_position(fields, says):
    with pytest.raises(RuleError) as refused:
        rule_from_fields(fields)
    assert says in chinese(refused.value)
    assert refused.value.position is None


def test_sample_bills_show_the_rule_either_side_of_its_threshold():
    bills = sample_bills(parse_rule("满100减10"))
    assert 9999 in bills and 10000 in bills
    assert sample_bills(parse_rule("8折"), typed=3350) == [3350, 5000, 10000, 20000]


def test_the_preview_reads_a_typed_rule_and_explains_it(staff):
    answer = staff.get("/admin/rules/preview", query_string={"text": "8折,最高减20"}).json
    assert answer["ok"] is True
    assert answer["text"] == "8折，最高减20"
    assert "账单 ¥100.00 → 优惠 ¥20.00，实付 ¥80.00" in answer["lines"]
    assert answer["fields"]["cap"] == "20"
    assert answer["rule"] == {
        "v": 1, "kind": "percent", "pay_permille": 800, "cap_fen": 2000, "min_bill_fen": None,
    }  # fmt: skip


def test_the_preview_says_where_a_typed_rule_goes_wrong(staff):
    answer = staff.get("/admin/rules/preview", query_string={"text": "满100减"}).json
    assert answer["ok"] is False
    assert answer["error"].startswith("第1个字附近")


def test_the_preview_says_the_same_refusal_in_english_and_in_chinese(staff):
    query = {"text": "8折送饮料"}
    chinese = staff.get("/admin/rules/preview", query_string=query).json
    staff.set_cookie("lang", "en")
    english = staff.get("/admin/rules/preview", query_string=query).json
    assert chinese["code"] == english["code"] == "unreadable"
    assert chinese["position"] == english["position"] == 3
    assert chinese["error"] == "第3个字附近: 看不懂“送饮料”"
    assert english["error"] == "near character 3: Cannot read “送饮料”."


def test_an_editor_amount_names_its_field_and_tier_in_either_language(staff):
    query = {"editor-kind": "tiers", "editor-tier2_threshold": "abc", "editor-tier2_off": "5"}
    chinese = staff.get("/admin/rules/preview", query_string=query).json
    staff.set_cookie("lang", "en")
    english = staff.get("/admin/rules/preview", query_string=query).json
    assert chinese["code"] == english["code"] == "money_unreadable"
    assert chinese["error"] == "第2档的门槛：看不懂这个金额“abc”"
    assert english["error"] == "The bill of tier 2: Cannot read the amount “abc”."


def test_the_preview_builds_the_text_from_the_editor(staff):
    tiers = {"kind": "tiers", "tier1_threshold": "100", "tier1_off": "10"}
    tiers |= {"tier2_threshold": "200", "tier2_off": "30"}
    query = {f"editor-{key}": value for key, value in tiers.items()} | {"rule_bill": "250"}
    answer = staff.get("/admin/rules/preview", query_string=query).json
    assert answer["text"] == "满100减10，满200减30"
    assert "账单 ¥250.00 → 优惠 ¥30.00，实付 ¥220.00" in answer["lines"]


def test_the_preview_is_for_staff_only(client, merchant):
    assert client.get("/admin/rules/preview?text=8折").status_code == 302
    assert merchant.get("/admin/rules/preview?text=8折").status_code == 403


def test_without_javascript_the_editor_button_writes_the_rule_into_the_form(staff, community):
    campaign = factories.campaign(community)
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/edit",
        data={"rule": "8折", "rule_action": "editor", "editor-kind": "per_step",
              "editor-step": "100", "editor-step_off": "10", "editor-cap": "50"},
    )  # fmt: skip
    assert response.status_code == 200
    assert 'value="每满100减10，最高减50"' in response.text
    assert "账单 ¥200.00 → 优惠 ¥20.00，实付 ¥180.00" in response.text


def test_without_javascript_the_preview_button_shows_the_rule_and_saves_nothing(
    staff, community, db
):
    campaign = factories.campaign(community, rule="8折")
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/edit",
        data={
            "name": "改了名字",
            "rule": "满100减10",
            "rule_action": "preview",
            "rule_bill": "120",
        },
    )
    assert response.status_code == 200
    assert "账单 ¥120.00 → 优惠 ¥10.00，实付 ¥110.00" in response.text
    db.session.rollback()
    assert db.session.get(type(campaign), campaign.id).name == "邻里互助消费卡"
