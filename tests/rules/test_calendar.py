"""The working-day calendar: shipped notices (2025, 2026), the administrator's file, fallbacks."""

from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from xinfang.rules.calendar import (
    SHIPPED_SOURCE,
    NoticeError,
    NoticeLineError,
    WorkingCalendar,
    YearNotice,
    parse_notice,
    shipped_notice,
)

NOTICE_2027 = Path(__file__).parent / "data" / "notice-2027-test.txt"


@pytest.fixture(scope="module")
def shipped() -> WorkingCalendar:
    return WorkingCalendar.shipped()


@pytest.fixture(scope="module")
def notice_2027() -> YearNotice:
    return parse_notice(NOTICE_2027.read_text(encoding="utf-8"), source=NOTICE_2027.name)


# --- shipped years ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working", "reason"),
    [
        pytest.param(date(2025, 10, 1), False, "国庆节", id="2025-10-01-national-day"),
        pytest.param(
            date(2025, 10, 6), False, "中秋节", id="2025-10-06-mid-autumn-inside-golden-week"
        ),
        pytest.param(date(2025, 10, 4), False, "国庆节", id="2025-10-04-saturday-inside-holiday"),
        pytest.param(date(2025, 9, 28), True, "调休上班（国庆节）", id="2025-09-28-makeup-sunday"),
        pytest.param(
            date(2025, 10, 11), True, "调休上班（国庆节）", id="2025-10-11-makeup-saturday"
        ),
        pytest.param(date(2025, 1, 26), True, "调休上班（春节）", id="2025-01-26-makeup-sunday"),
        pytest.param(date(2025, 2, 8), True, "调休上班（春节）", id="2025-02-08-makeup-saturday"),
        pytest.param(date(2025, 2, 4), False, "春节", id="2025-02-04-last-spring-festival-day"),
        pytest.param(date(2026, 9, 20), True, "调休上班（国庆节）", id="2026-09-20-makeup-sunday"),
        pytest.param(
            date(2026, 10, 10), True, "调休上班（国庆节）", id="2026-10-10-makeup-saturday"
        ),
        pytest.param(date(2026, 2, 14), True, "调休上班（春节）", id="2026-02-14-makeup-saturday"),
        pytest.param(date(2026, 2, 23), False, "春节", id="2026-02-23-monday-spring-festival"),
        pytest.param(date(2026, 1, 4), True, "调休上班（元旦）", id="2026-01-04-makeup-sunday"),
        pytest.param(date(2026, 9, 25), False, "中秋节", id="2026-09-25-mid-autumn"),
        pytest.param(date(2025, 10, 9), True, "工作日", id="2025-10-09-plain-thursday"),
        pytest.param(date(2025, 10, 18), False, "周六", id="2025-10-18-plain-saturday"),
        pytest.param(date(2025, 10, 12), False, "周日", id="2025-10-12-plain-sunday"),
    ],
)
def test_shipped_calendar_classifies_official_days(shipped, day, working, reason):
    info = shipped.day(day)

    assert (info.working, info.provisional, info.reason) == (working, False, reason)
    assert shipped.is_working_day(day) is working


@pytest.mark.parametrize("year", [2025, 2026])
def test_shipped_calendar_agrees_with_chinese_calendar_every_day(shipped, year):
    day = date(year, 1, 1)
    while day.year == year:
        assert shipped.is_working_day(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_shipped_notice_carries_chinese_names_and_its_source():
    notice = shipped_notice(2026)

    assert notice is not None
    assert notice.source == SHIPPED_SOURCE
    assert SHIPPED_SOURCE == "国务院办公厅节假日安排（随系统内置，数据版本 1.11.0）"
    assert notice.makeup_workdays == {
        date(2026, 1, 4): "元旦",
        date(2026, 2, 14): "春节",
        date(2026, 2, 28): "春节",
        date(2026, 5, 9): "劳动节",
        date(2026, 9, 20): "国庆节",
        date(2026, 10, 10): "国庆节",
    }
    assert set(notice.holidays.values()) == {
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
    }


@pytest.mark.parametrize("year", [2027, 2003, 1990], ids=lambda y: f"year-{y}")
def test_shipped_notice_is_none_for_a_year_the_package_does_not_know(year):
    assert shipped_notice(year) is None


def test_unloaded_year_falls_back_to_weekends_and_says_so(shipped):
    friday, saturday = shipped.day(date(2027, 1, 1)), shipped.day(date(2027, 1, 2))

    assert not shipped.is_loaded(2027)
    assert shipped.is_loaded(2026)
    assert (friday.working, friday.provisional) == (True, True)
    assert (saturday.working, saturday.provisional) == (False, True)
    assert "未载入2027年日历，按周末推定" in friday.reason
    assert saturday.reason == "周六（未载入2027年日历，按周末推定）"


def test_loaded_notice_replaces_the_weekend_guess(notice_2027):
    calendar = WorkingCalendar.shipped({2027: notice_2027})

    assert calendar.is_loaded(2027)
    assert calendar.day(date(2027, 1, 1)).reason == "元旦"
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.day(date(2027, 1, 31)).reason == "调休上班（春节）"
    assert calendar.is_working_day(date(2026, 9, 20))  # shipped years stay


def test_extra_notice_wins_over_a_shipped_year():
    # given an administrator's correction of 2026 that drops the 09-20 make-up Sunday
    corrected = parse_notice("year 2026\nholiday 2026-10-01 2026-10-07 国庆节\n", source="fix.txt")

    # when
    calendar = WorkingCalendar.shipped({2026: corrected})

    # then
    assert calendar.notice(2026) is corrected
    assert not calendar.is_working_day(date(2026, 9, 20))
    assert calendar.is_working_day(date(2025, 9, 28))


def test_a_datetime_is_refused_rather_than_missing_every_holiday(shipped):
    with pytest.raises(TypeError, match="datetime"):
        shipped.day(datetime(2025, 10, 1, 9))


def test_notice_filed_under_the_wrong_year_is_refused(notice_2027):
    with pytest.raises(ValueError, match="2027"):
        WorkingCalendar({2028: notice_2027})


# --- the administrator's notice file ------------------------------------------------------------


def test_fixture_notice_parses(notice_2027):
    assert notice_2027.year == 2027
    assert notice_2027.source == "notice-2027-test.txt"
    assert notice_2027.holidays[date(2027, 2, 6)] == "春节"  # "至" range
    assert notice_2027.holidays[date(2027, 2, 13)] == "春节"
    assert notice_2027.holidays[date(2027, 4, 4)] == "清明节"  # Chinese keyword 放假
    assert notice_2027.makeup_workdays[date(2027, 4, 25)] == "劳动节"  # Chinese keyword 上班
    assert len(notice_2027.holidays) == 32
    assert sorted(notice_2027.makeup_workdays) == [
        date(2027, 1, 31),
        date(2027, 2, 20),
        date(2027, 4, 25),
        date(2027, 9, 26),
        date(2027, 10, 9),
    ]


def test_notice_tolerates_bom_full_width_spaces_and_unpadded_dates():
    text = "\ufeff# 通知\n\nyear 2027\nholiday\u30002027-1-1\u30002027-1-3 元旦  # 注释\n"

    notice = parse_notice(text, source="clerk.txt")

    assert sorted(notice.holidays) == [date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]


def test_notice_reports_every_error_with_its_line_number():
    text = "\n".join(
        [
            "# 有错的通知",  # 1
            "year 2027",  # 2
            "holiday 2027-01-01 2027-01-03 元旦",  # 3
            "holiday 2027-02-30 春节",  # 4
            "workday 2027-02-08 春节",  # 5
            "holiday 2027-10-07 2027-10-01 国庆节",  # 6
            "holliday 2027-05-01 劳动节",  # 7
            "workday 2027-01-02 元旦",  # 8
            "holiday 2028-01-01 元旦",  # 9
            "year 2028",  # 10
            "holiday 2027/06/09 端午节",  # 11
        ]
    )

    with pytest.raises(NoticeError) as caught:
        parse_notice(text, source="bad.txt")

    assert caught.value.errors == [
        NoticeLineError(4, "第4行：日期 2027-02-30 无效"),
        NoticeLineError(5, "第5行：2027-02-08 是周一，调休上班日必须是周六或周日"),
        NoticeLineError(6, "第6行：结束日期 2027-10-01 早于开始日期 2027-10-07"),
        NoticeLineError(7, "第7行：未知关键字 holliday（应为 year、holiday 或 workday）"),
        NoticeLineError(8, "第8行：2027-01-02 已在第3行列为放假，不能既放假又上班"),
        NoticeLineError(9, "第9行：日期 2028-01-01 不在 2027 年内"),
        NoticeLineError(10, "第10行：年份行重复（第2行已写 year 2027），每个文件只写一个年份"),
        NoticeLineError(11, "第11行：无法识别的日期 2027/06/09（应写作 2027-01-01）"),
    ]
    assert str(caught.value).splitlines() == [e.message for e in caught.value.errors]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param("holiday 2027-01-01 元旦\n", 0, "缺少年份行", id="missing-year"),
        pytest.param("year 27\nholiday 2027-01-01 元旦\n", 1, "year 2027", id="malformed-year"),
        pytest.param("year 2027\n", 0, "没有任何放假日期", id="no-holidays"),
        pytest.param("year 2027\nholiday 2027-01-01\n", 2, "缺少节日名称", id="missing-name"),
        pytest.param(
            "year 2027\nholiday 2027-01-01 2027-01-02 2027-01-03 元旦\n",
            2,
            "格式不对",
            id="too-many-dates",
        ),
        pytest.param(
            "year 2027\nholiday 2027-01-01 2027-03-01 元旦\n", 2, "请核对日期", id="range-too-long"
        ),
        pytest.param(
            "year 2027\nholiday 2027-01-01 元旦\nholiday 2027-01-01 元旦\n",
            3,
            "已在第2行列为放假，重复列出",
            id="duplicate-holiday",
        ),
        pytest.param(
            "year 2027\nworkday 2027-01-02 元旦\nholiday 2027-01-01 2027-01-03 元旦\n",
            3,
            "2027-01-02 已在第2行列为调休上班，不能既放假又上班",
            id="workday-then-holiday",
        ),
    ],
)
def test_notice_error(text, line, fragment):
    with pytest.raises(NoticeError) as caught:
        parse_notice(text, source="bad.txt")

    [error] = caught.value.errors
    assert error.line == line
    assert fragment in error.message
