"""Households (楼栋-单元-门牌): every way staff write one reads to one stored form."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.households import HouseholdError, household_label, parse_household


@pytest.mark.parametrize(
    "typed",
    [
        "3-2-501",
        "3栋2单元501",
        "3栋2单元501室",
        "3号楼2单元501室",
        "3幢2单元501号",
        "３－２－５０１",
        "３栋２单元５０１室",
        " 3 - 2 - 501 ",
        "3 2 501",
        "3/2/501",
        "03-02-0501",
        "3栋 2单元 501",
    ],
)
def test_every_common_way_of_writing_a_household_reads_to_3_2_501(typed):
    assert parse_household(typed) == "3-2-501"


def test_a_lettered_building_keeps_its_letter_in_upper_case():
    assert parse_household("a座1单元1203") == "A-1-1203"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "household_required"),
        ("   ", "household_required"),
        ("3-501", "household_format"),
        ("3栋501", "household_format"),
        ("三栋二单元501", "household_format"),
        ("3-0-501", "household_format"),
        ("3-2-501-9", "household_format"),
        ("紫荆花路18号", "household_format"),
    ],
)
def test_a_household_that_cannot_be_read_is_refused_with_a_code(typed, code):
    with pytest.raises(HouseholdError) as refused:
        parse_household(typed)
    assert refused.value.code == code


def test_a_stored_household_is_shown_in_chinese():
    assert household_label("3-2-501") == "3栋2单元501室"
    assert household_label(None) == ""


@given(st.integers(1, 99), st.integers(1, 9), st.integers(101, 3299))
def test_the_chinese_label_reads_back_to_the_stored_form(building, unit, room):
    stored = f"{building}-{unit}-{room}"
    assert parse_household(household_label(stored)) == stored
