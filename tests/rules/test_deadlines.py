"""Deadlines under SPEC.md "Clock conventions", checked against the real 2025 and 2026 notices."""

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from xinfang.rules.calendar import WorkingCalendar, parse_notice
from xinfang.rules.deadlines import Due, compute_due

SH = ZoneInfo("Asia/Shanghai")
NOTICE_2027 = Path(__file__).parent / "data" / "notice-2027-test.txt"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def end_of(year: int, month: int, day: int) -> datetime:
    """24:00 of the given day, as compute_due represents it."""
    return at(year, month, day) + timedelta(days=1)


@pytest.fixture(scope="module")
def shipped() -> WorkingCalendar:
    return WorkingCalendar.shipped()


@pytest.fixture(scope="module")
def with_2027() -> WorkingCalendar:
    notice = parse_notice(NOTICE_2027.read_text(encoding="utf-8"), source=NOTICE_2027.name)
    return WorkingCalendar.shipped({2027: notice})


@pytest.mark.parametrize(
    ("start", "amount", "unit", "roll", "due"),
    [
        # working days
        pytest.param(
            at(2026, 9, 18, 10), 10, "working_days", True, end_of(2026, 10, 9),
            id="wd-2026-national-day-with-makeup-sunday-0920",
        ),
        pytest.param(
            at(2025, 10, 3, 9), 1, "working_days", True, end_of(2025, 10, 9),
            id="wd-start-on-holiday-2025-10-03",
        ),
        pytest.param(
            at(2025, 9, 26, 23, 30), 1, "working_days", True, end_of(2025, 9, 28),
            id="wd-start-2330-friday-next-is-makeup-sunday-0928",
        ),
        pytest.param(
            at(2025, 9, 30, 23, 30), 3, "working_days", True, end_of(2025, 10, 11),
            id="wd-2025-national-day-ends-on-makeup-saturday-1011",
        ),
        pytest.param(
            at(2025, 1, 24, 15), 3, "working_days", True, end_of(2025, 2, 5),
            id="wd-2025-spring-festival-with-makeup-sunday-0126",
        ),
        pytest.param(
            at(2026, 2, 13, 16), 2, "working_days", True, end_of(2026, 2, 24),
            id="wd-2026-spring-festival-with-makeup-saturday-0214",
        ),
        pytest.param(
            at(2026, 3, 2, 9), 0, "working_days", True, end_of(2026, 3, 2),
            id="wd-zero-is-end-of-start-day",
        ),
        # calendar days, roll-forward on and off
        pytest.param(
            at(2025, 9, 30, 23, 30), 3, "days", True, end_of(2025, 10, 9),
            id="days-2025-national-day-rolls-to-1009",
        ),
        pytest.param(
            at(2025, 9, 30, 23, 30), 3, "days", False, end_of(2025, 10, 3),
            id="days-2025-national-day-no-roll",
        ),
        pytest.param(
            at(2026, 2, 10, 10), 7, "days", True, end_of(2026, 2, 24),
            id="days-2026-spring-festival-rolls-to-0224",
        ),
        pytest.param(
            at(2026, 2, 10, 10), 7, "days", False, end_of(2026, 2, 17),
            id="days-2026-spring-festival-no-roll",
        ),
        pytest.param(
            at(2026, 10, 5, 9), 5, "days", True, end_of(2026, 10, 10),
            id="days-ending-on-makeup-saturday-1010-does-not-roll",
        ),
        pytest.param(
            at(2025, 10, 13, 9), 5, "days", True, end_of(2025, 10, 20),
            id="days-ending-on-plain-saturday-rolls-to-monday",
        ),
        pytest.param(
            at(2025, 10, 13, 9), 5, "days", False, end_of(2025, 10, 18),
            id="days-ending-on-plain-saturday-no-roll",
        ),
        pytest.param(
            at(2025, 10, 13, 9), 0, "days", True, end_of(2025, 10, 13),
            id="days-zero-on-a-working-day-is-end-of-start-day",
        ),
        # weeks
        pytest.param(
            at(2025, 9, 24, 10), 1, "weeks", True, end_of(2025, 10, 9),
            id="weeks-1-into-2025-national-day-rolls",
        ),
        pytest.param(
            at(2025, 9, 24, 10), 1, "weeks", False, end_of(2025, 10, 1),
            id="weeks-1-into-2025-national-day-no-roll",
        ),
        pytest.param(
            at(2026, 9, 17, 10), 2, "weeks", True, end_of(2026, 10, 8),
            id="weeks-2-into-2026-national-day-rolls",
        ),
        # hours and same day never look at the calendar
        pytest.param(
            at(2025, 10, 1, 23, 30), 1, "hours", True, at(2025, 10, 2, 0, 30),
            id="hours-across-midnight",
        ),
        pytest.param(
            at(2025, 10, 1, 9), 24, "hours", True, at(2025, 10, 2, 9),
            id="hours-24-through-a-holiday",
        ),
        pytest.param(
            at(2026, 12, 31, 18), 72, "hours", True, at(2027, 1, 3, 18),
            id="hours-72-into-unloaded-year",
        ),
        pytest.param(
            at(2025, 10, 1, 9), 1, "same_day", True, end_of(2025, 10, 1),
            id="same-day-morning",
        ),
        pytest.param(
            at(2025, 10, 1, 23, 30), 0, "same_day", True, end_of(2025, 10, 1),
            id="same-day-2330",
        ),
    ],
)  # fmt: skip
def test_compute_due(shipped, start, amount, unit, roll, due):
    result = compute_due(start, amount, unit, calendar=shipped, roll=roll)

    assert result.due == due
    assert result.due.tzinfo == SH
    assert result.provisional is False


def test_start_in_another_offset_is_counted_on_the_shanghai_day(shipped):
    # 2025-09-27 16:30 UTC is 2025-09-28 00:30 in Shanghai: the start day is the make-up Sunday,
    # so the first working day counted is Monday 09-29 (read in UTC it would be 09-28).
    start = datetime(2025, 9, 27, 16, 30, tzinfo=UTC)

    result = compute_due(start, 1, "working_days", calendar=shipped)

    assert result.due == end_of(2025, 9, 29)
    assert result.steps[0] == "起算：2025-09-28 00:30（北京时间）"


def test_hours_are_exact_whatever_the_start_offset(shipped):
    start = datetime(2025, 10, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))

    result = compute_due(start, 6, "hours", calendar=shipped)

    assert result.due == at(2025, 10, 2, 7)
    assert result.due.isoformat() == "2025-10-02T07:00:00+08:00"


# --- crossing into a year whose notice is not loaded --------------------------------------------


@pytest.mark.parametrize(
    ("start", "amount", "unit", "roll", "guessed", "provisional", "loaded"),
    [
        pytest.param(
            at(2026, 12, 24, 10), 6, "working_days", True,
            end_of(2027, 1, 1), True, end_of(2027, 1, 4),
            id="wd-6-counts-2027-01-01",
        ),
        pytest.param(
            at(2026, 12, 25, 10), 7, "days", True,
            end_of(2027, 1, 1), True, end_of(2027, 1, 4),
            id="days-7-lands-on-2027-01-01-rolls",
        ),
        pytest.param(
            at(2026, 12, 25, 10), 7, "days", False,
            end_of(2027, 1, 1), False, end_of(2027, 1, 1),
            id="days-7-no-roll-classifies-nothing",
        ),
        pytest.param(
            at(2026, 12, 24, 10), 5, "working_days", True,
            end_of(2026, 12, 31), False, end_of(2026, 12, 31),
            id="wd-5-ends-2026-12-31-due-instant-in-2027-not-provisional",
        ),
        pytest.param(
            at(2027, 1, 20, 9), 20, "working_days", True,
            end_of(2027, 2, 17), True, end_of(2027, 2, 22),
            id="wd-20-over-invented-2027-spring-festival",
        ),
        pytest.param(
            at(2026, 12, 31, 10), 1, "same_day", True,
            end_of(2026, 12, 31), False, end_of(2026, 12, 31),
            id="same-day-never-provisional",
        ),
    ],
)  # fmt: skip
def test_unloaded_year_is_provisional_until_its_notice_is_loaded(
    shipped, with_2027, start, amount, unit, roll, guessed, provisional, loaded
):
    # when the 2027 notice is missing
    before = compute_due(start, amount, unit, calendar=shipped, roll=roll)
    # and when it is loaded
    after = compute_due(start, amount, unit, calendar=with_2027, roll=roll)

    assert (before.due, before.provisional) == (guessed, provisional)
    assert (after.due, after.provisional) == (loaded, False)


def test_provisional_explanation_names_the_missing_year(shipped):
    result = compute_due(at(2026, 12, 24, 10), 6, "working_days", calendar=shipped)

    assert result.steps[-3:] == [
        "2027-01-01 工作日（未载入2027年日历，按周末推定）计第6个工作日",
        "期限：2027-01-01 24时",
        "暂定：未载入2027年国务院节假日安排，该年日期按周一至周五为工作日推定；载入后须重算",
    ]


# --- the explanation a clerk reads out -----------------------------------------------------------


def test_working_days_explanation_2026_national_day(shipped):
    result = compute_due(at(2026, 9, 18, 10), 10, "working_days", calendar=shipped)

    assert result.steps == [
        "起算：2026-09-18 10:00（北京时间）",
        "规则：10个工作日，起算当日不计（不论几时起算），至第10个工作日24时",
        "09-19 周六 不计",
        "09-20 调休上班（国庆节）计第1个工作日",
        "09-21…09-24 工作日 计第2–5个工作日",
        "09-25…09-27 中秋节 不计",
        "09-28…09-30 工作日 计第6–8个工作日",
        "10-01…10-07 国庆节 不计",
        "10-08…10-09 工作日 计第9–10个工作日",
        "期限：2026-10-09 24时",
    ]


def test_days_roll_forward_explanation_2025_national_day(shipped):
    result = compute_due(at(2025, 9, 30, 23, 30), 3, "days", calendar=shipped)

    assert result.steps == [
        "起算：2025-09-30 23:30（北京时间）",
        "规则：3日，起算当日不计，至第3日24时；期满日为节假日或周末的，顺延至其后第一个工作日24时",
        "10-01…10-03 日历日 计第1–3日",
        "10-03…10-05 国庆节 非工作日，顺延",
        "10-06 中秋节 非工作日，顺延",
        "10-07…10-08 国庆节 非工作日，顺延",
        "10-09 工作日 顺延至此，为期满日",
        "期限：2025-10-09 24时",
    ]


def test_days_without_roll_explanation(shipped):
    result = compute_due(at(2025, 9, 30, 23, 30), 3, "days", calendar=shipped, roll=False)

    assert result.steps[1:] == [
        "规则：3日，起算当日不计，至第3日24时；期满日逢节假日、周末不顺延",
        "10-01…10-03 日历日 计第1–3日",
        "10-03 为期满日",
        "期限：2025-10-03 24时",
    ]


def test_weekend_run_is_collapsed(shipped):
    result = compute_due(at(2025, 10, 17, 9), 1, "working_days", calendar=shipped)

    assert "10-18…10-19 周末 不计" in result.steps
    assert "10-20 工作日 计第1个工作日" in result.steps


def test_hours_explanation_does_not_mention_days(shipped):
    result = compute_due(at(2025, 10, 1, 23, 30), 1, "hours", calendar=shipped)

    assert result.steps == [
        "起算：2025-10-01 23:30（北京时间）",
        "规则：1小时，自起算时刻起满1小时",
        "期限：2025-10-02 00:30",
    ]


def test_to_json(shipped):
    result = compute_due(at(2026, 9, 18, 10), 10, "working_days", calendar=shipped)

    assert result.to_json() == {"due": "2026-10-10T00:00:00+08:00", "provisional": False}
    assert isinstance(result, Due)


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "amount", "unit", "bad"),
    [
        pytest.param(at(2025, 10, 1), 3, "months", "'months'", id="unknown-unit"),
        pytest.param(at(2025, 10, 1), -1, "days", "-1", id="negative-amount"),
        pytest.param(at(2025, 10, 1), True, "days", "True", id="bool-amount"),
        pytest.param(at(2025, 10, 1), 2, "same_day", "2", id="same-day-amount-2"),
        pytest.param(datetime(2025, 10, 1, 9), 3, "days", "2025, 10, 1, 9", id="naive-start"),
        pytest.param(date(2025, 10, 1), 3, "days", "2025, 10, 1", id="date-not-datetime"),
    ],
)
def test_bad_input_is_refused_naming_the_value(shipped, start, amount, unit, bad):
    with pytest.raises(ValueError, match=bad):
        compute_due(start, amount, unit, calendar=shipped)
