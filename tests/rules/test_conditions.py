"""The declarative condition matcher: every operator, every combinator, and what it refuses."""

import re
from pathlib import Path

import pytest

from xinfang.rules.conditions import (
    ALWAYS,
    FACTS,
    OPERATORS,
    Condition,
    ConditionError,
    condition_fields,
    matches,
    validate_condition,
)

CASE = {
    "kind": "petition",
    "channel": "visit",
    "source_level": "province",
    "headcount": 6,
    "repeat_count": 2,
    "key_case": True,
    "collective": True,
    "categories": ["危房改造", "小额信贷"],
    "leader_instruction_level": None,
}


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ({"field": "channel", "eq": "visit"}, True),
        ({"field": "channel", "eq": "letter"}, False),
        ({"field": "channel", "ne": "letter"}, True),
        ({"field": "channel", "ne": "visit"}, False),
        ({"field": "channel", "in": ["phone", "visit"]}, True),
        ({"field": "channel", "in": ["phone", "online"]}, False),
        ({"field": "channel", "not_in": ["phone", "online"]}, True),
        ({"field": "channel", "not_in": ["visit"]}, False),
        ({"field": "headcount", "gt": 5}, True),
        ({"field": "headcount", "gt": 6}, False),
        ({"field": "headcount", "gte": 6}, True),
        ({"field": "headcount", "gte": 7}, False),
        ({"field": "headcount", "lt": 7}, True),
        ({"field": "headcount", "lt": 6}, False),
        ({"field": "headcount", "lte": 6}, True),
        ({"field": "headcount", "lte": 5}, False),
        ({"field": "categories", "contains": "危房改造"}, True),
        ({"field": "categories", "contains": "医疗保障"}, False),
        ({"field": "categories", "contains_any": ["医疗保障", "小额信贷"]}, True),
        ({"field": "categories", "contains_any": ["医疗保障", "其他"]}, False),
        ({"field": "key_case", "present": True}, True),
        ({"field": "exited_household", "present": True}, False),
        ({"field": "exited_household", "present": False}, True),
        ({"field": "leader_instruction_level", "present": False}, True),  # None is absent
        ({"field": "key_case", "eq": True}, True),
    ],
)
def test_every_operator(leaf, expected):
    assert validate_condition(leaf) == []
    assert matches(leaf, CASE) is expected
    assert Condition(leaf).matches(CASE) is expected


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ({"field": "source_level", "gte": "province"}, True),
        ({"field": "source_level", "gte": "central"}, False),
        ({"field": "source_level", "gt": "city"}, True),
        ({"field": "source_level", "lt": "central"}, True),
        ({"field": "source_level", "lte": "county"}, False),
    ],
)
def test_levels_are_ordered_from_village_to_central(leaf, expected):
    assert matches(leaf, CASE) is expected


def test_the_third_petition_is_repeat_count_two():
    third_or_later = {"field": "repeat_count", "gte": 2}
    assert matches(third_or_later, {"repeat_count": 2})
    assert not matches(third_or_later, {"repeat_count": 1})


def test_combinators():
    visit = {"field": "channel", "eq": "visit"}
    letter = {"field": "channel", "eq": "letter"}
    assert matches({"all": [visit, {"field": "key_case", "eq": True}]}, CASE)
    assert not matches({"all": [visit, letter]}, CASE)
    assert matches({"any": [letter, visit]}, CASE)
    assert not matches({"any": [letter, {"field": "headcount", "lt": 2}]}, CASE)
    assert matches({"not": letter}, CASE)
    assert not matches({"not": visit}, CASE)
    nested = {"all": [{"any": [letter, {"not": letter}]}, {"not": {"all": [visit, letter]}}]}
    assert matches(nested, CASE)


def test_true_missing_and_false():
    assert matches(True, {}) and matches(None, {}) and ALWAYS.matches({})
    assert not matches(False, CASE)
    assert ALWAYS.always and not Condition({"field": "repeat", "eq": True}).always


def test_an_absent_fact_fails_everything_but_the_negations():
    assert not matches({"field": "headcount", "gte": 0}, {})
    assert not matches({"field": "channel", "eq": "visit"}, {})
    assert not matches({"field": "categories", "contains": "其他"}, {})
    assert matches({"field": "channel", "ne": "visit"}, {})
    assert matches({"field": "channel", "not_in": ["visit"]}, {})
    assert matches({"field": "key_case", "present": False}, {})


def test_unknown_field_is_rejected_with_its_path():
    problems = validate_condition(
        {"all": [{"field": "channel", "eq": "visit"}, {"field": "mood", "eq": "angry"}]}
    )
    assert len(problems) == 1
    assert problems[0].startswith("when.all[1].field: unknown field 'mood'")


def test_unknown_operator_is_rejected_with_its_path():
    problems = validate_condition({"any": [{"field": "headcount", "between": [1, 5]}]})
    assert problems[0].startswith("when.any[0].between: unknown operator 'between'")


def test_a_close_name_gets_a_suggestion():
    (problem,) = validate_condition({"field": "colective", "eq": True})
    assert "did you mean 'collective'?" in problem


@pytest.mark.parametrize(
    ("cond", "path"),
    [
        ({"field": "channel", "eq": "fax"}, "when.eq"),
        ({"field": "headcount", "gte": "five"}, "when.gte"),
        ({"field": "headcount", "gte": True}, "when.gte"),
        ({"field": "key_case", "eq": "yes"}, "when.eq"),
        ({"field": "channel", "in": "visit"}, "when.in"),
        ({"field": "channel", "in": []}, "when.in"),
        ({"field": "channel", "in": ["visit", "fax"]}, "when.in[1]"),
        ({"field": "channel", "gt": "letter"}, "when.gt"),  # channels are not ordered
        ({"field": "channel", "contains": "visit"}, "when.contains"),
        ({"field": "categories", "eq": "其他"}, "when.eq"),
        ({"field": "key_case", "present": "yes"}, "when.present"),
        ({"field": "headcount"}, "when"),
        ({"field": "headcount", "gte": 5, "lte": 9}, "when"),
        ({"all": []}, "when.all"),
        ({"all": {"field": "repeat", "eq": True}}, "when.all"),
        ({"not": [{"field": "repeat", "eq": True}]}, "when.not"),
        ({"all": [{"field": "repeat", "eq": True}], "field": "repeat"}, "when"),
        ({"channel": "visit"}, "when"),
        ("channel == visit", "when"),
    ],
)
def test_malformed_conditions_are_refused(cond, path):
    problems = validate_condition(cond)
    assert problems, cond
    assert problems[0].split(": ", 1)[0] == path
    with pytest.raises(ConditionError):
        Condition(cond)
    with pytest.raises(ConditionError):
        matches(cond, CASE)


def test_categories_can_be_checked_against_the_profile():
    cond = {"field": "categories", "contains": "打麻将"}
    assert validate_condition(cond) == []
    (problem,) = validate_condition(cond, categories=["危房改造", "其他"])
    assert problem.startswith("when.contains: '打麻将' is not a valid value")


def test_a_path_prefix_can_be_given():
    (problem,) = validate_condition({"field": "nope", "eq": 1}, path="clocks[2].when")
    assert problem.startswith("clocks[2].when.field:")


def test_facts_of_the_wrong_type_are_an_error_not_a_silent_false():
    with pytest.raises(ConditionError):
        matches({"field": "headcount", "gte": 5}, {"headcount": "6"})
    with pytest.raises(ConditionError):
        matches({"field": "categories", "contains": "其他"}, {"categories": "其他"})


def test_condition_is_frozen_hashable_and_compared_by_content():
    a = Condition({"all": [{"field": "repeat", "eq": True}, {"field": "headcount", "gte": 5}]})
    b = Condition({"all": [{"eq": True, "field": "repeat"}, {"gte": 5, "field": "headcount"}]})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    with pytest.raises(TypeError):
        a.data["all"][0]["eq"] = False
    with pytest.raises(AttributeError):
        a.x = 1
    assert a.to_data() == {
        "all": [{"field": "repeat", "eq": True}, {"field": "headcount", "gte": 5}]
    }
    assert matches(a.data, {"repeat": True, "headcount": 5})  # frozen data validates too


def test_condition_fields():
    cond = {
        "all": [
            {"field": "source_level", "gte": "province"},
            {"not": {"any": [{"field": "unit_level", "eq": "township"}]}},
        ]
    }
    assert condition_fields(cond) == {"source_level", "unit_level"}
    assert condition_fields(True) == frozenset()


def test_the_fact_table_is_the_agreed_one():
    assert set(FACTS) == {
        "kind", "channel", "source_level", "has_leader_instruction", "leader_instruction_level",
        "headcount", "repeat_count", "is_first_petition", "repeat", "level_skipping",
        "collective", "extreme_behaviour", "key_case", "exited_household", "monitored_household",
        "categories", "matter_type", "concerns_misconduct", "concerns_policy",
        "concerns_execution", "concerns_several_units", "unit_level", "unit_kind",
    }  # fmt: skip
    assert set(OPERATORS) == {"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains",
                              "contains_any", "present"}  # fmt: skip


def test_the_matcher_never_evaluates_code():
    source = (Path(__file__).parents[2] / "xinfang/rules/conditions.py").read_text("utf-8")
    for forbidden in ("eval", "exec", "compile", "__import__", "getattr"):
        assert not re.search(rf"\b{forbidden}\(", source), forbidden
