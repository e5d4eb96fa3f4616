"""The console: ``xinfang deadline``, ``xinfang calendar`` and ``xinfang sweep``."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from xinfang.rules.calendar import SHIPPED_SOURCE
from xinfang.rules.models import CalendarYear
from xinfang.rules.store import forget_calendar

NOTICE_2027 = Path(__file__).parent / "data" / "notice-2027-test.txt"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar():
    # The calendar is cached per process, but each test's rows are rolled back.
    forget_calendar()
    yield
    forget_calendar()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def deadline(*args: str) -> dict:
    output = run("deadline", *args)
    assert output.count("\n") == 1, "exactly one JSON object, on one line"
    return json.loads(output)


# --- xinfang deadline ---------------------------------------------------------------------------


def test_deadline_prints_the_spec_example_counting_the_makeup_sunday():
    # given a Friday-afternoon start; 09-20 is the make-up working Sunday before 国庆节

    # when
    result = deadline("--start", "2026-09-18T16:00+08:00", "--amount", "3", "--unit",
                      "working_days")

    # then 09-20, 09-21, 09-22 are the three working days
    assert result == {"due": "2026-09-23T00:00:00+08:00", "provisional": False}


def test_deadline_skips_national_day_and_explains_why():
    result = deadline("--start", "2026-09-30T10:00+08:00", "--amount", "1", "--unit",
                      "working_days", "--explain")

    assert result["due"] == "2026-10-09T00:00:00+08:00"
    assert result["provisional"] is False
    assert any("国庆节" in step and "不计" in step for step in result["steps"])
    assert result["steps"][-1] == "期限：2026-10-08 24时"


def test_deadline_rolls_past_a_holiday_unless_told_not_to():
    args = ("--start", "2026-09-28T09:00+08:00", "--amount", "3", "--unit", "days")

    assert deadline(*args)["due"] == "2026-10-09T00:00:00+08:00"
    assert deadline(*args, "--no-roll")["due"] == "2026-10-02T00:00:00+08:00"


def test_deadline_accepts_any_offset_and_answers_in_beijing_time():
    result = deadline("--start", "2026-09-18T08:00Z", "--amount", "48", "--unit", "hours")

    assert result == {"due": "2026-09-20T16:00:00+08:00", "provisional": False}


def test_deadline_into_an_unloaded_year_is_provisional_until_the_year_is_loaded():
    # given 2027 is not shipped: 2027-01-01 (a Friday) is assumed a working day
    args = ("--start", "2026-12-28T09:00+08:00", "--amount", "5", "--unit", "working_days")
    before = deadline(*args, "--explain")
    assert before["due"] == "2027-01-05T00:00:00+08:00"
    assert before["provisional"] is True
    assert any("未载入2027年" in step for step in before["steps"])

    # when the (invented) 2027 notice is loaded, 01-01…01-03 are 元旦
    run("calendar", "load", str(NOTICE_2027))

    # then the command computes with the same calendar as the engine
    assert deadline(*args) == {"due": "2027-01-06T00:00:00+08:00", "provisional": False}


@pytest.mark.parametrize(
    ("start", "amount", "unit", "named"),
    [
        pytest.param("2026-09-18T16:00", "3", "working_days", "--start", id="naive-start"),
        pytest.param("next friday", "3", "working_days", "--start", id="unparseable-start"),
        pytest.param("2026-09-31T16:00+08:00", "3", "days", "--start", id="impossible-date"),
        pytest.param("2026-09-18T16:00+08:00", "3", "months", "--unit", id="unknown-unit"),
        pytest.param("2026-09-18T16:00+08:00", "-1", "days", "--amount", id="negative-amount"),
        pytest.param("2026-09-18T16:00+08:00", "three", "days", "--amount", id="word-amount"),
        pytest.param("2026-09-18T16:00+08:00", "2.5", "days", "--amount", id="fraction-amount"),
        pytest.param("2026-09-18T16:00+08:00", "2", "same_day", "--amount", id="same-day-2"),
    ],
)
def test_deadline_refuses_bad_input_naming_the_argument(start, amount, unit, named):
    with pytest.raises(CommandError, match=named):
        run("deadline", "--start", start, "--amount", amount, "--unit", unit)


# --- xinfang calendar ---------------------------------------------------------------------------


def test_calendar_load_reports_the_year_its_days_and_the_recomputed_clocks():
    output = run("calendar", "load", str(NOTICE_2027))

    assert "已载入2027年节假日安排（来源 notice-2027-test.txt）" in output
    assert "放假 32 天，调休上班 5 天" in output
    assert "重算时限 0 个" in output
    row = CalendarYear.objects.get(year=2027)
    assert row.source == "notice-2027-test.txt"
    assert row.text == NOTICE_2027.read_text(encoding="utf-8")


def test_calendar_load_of_a_malformed_file_lists_every_bad_line_and_stores_nothing(tmp_path):
    notice = tmp_path / "notice-2027.txt"
    notice.write_text(
        "year 2027\n"
        "holiday 2027-02-30 春节\n"  # no such date
        "holiday 2027-10-01 2027-10-07 国庆节\n"
        "workday 2027-10-08 国庆节\n",  # a Friday cannot be a make-up working day
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as refused:
        run("calendar", "load", str(notice))

    message = str(refused.value)
    assert "2 处错误，未载入" in message
    assert "第2行：日期 2027-02-30 无效" in message
    assert "第4行：2027-10-08 是周五，调休上班日必须是周六或周日" in message
    assert not CalendarYear.objects.exists()


def test_calendar_load_refuses_a_shipped_year_without_replace(tmp_path):
    notice = tmp_path / "notice-2026.txt"
    notice.write_text("year 2026\nholiday 2026-10-01 2026-10-08 国庆节\n", encoding="utf-8")

    with pytest.raises(CommandError, match="已随系统内置.*--replace"):
        run("calendar", "load", str(notice))
    assert not CalendarYear.objects.exists()

    output = run("calendar", "load", str(notice), "--replace")
    assert f"替换原来源 {SHIPPED_SOURCE}" in output
    assert CalendarYear.objects.get(year=2026).source == "notice-2026.txt"


def test_calendar_load_refuses_a_year_loaded_before_without_replace(tmp_path):
    run("calendar", "load", str(NOTICE_2027))
    corrected = tmp_path / "notice-2027-v2.txt"
    corrected.write_text("year 2027\nholiday 2027-01-01 元旦\n", encoding="utf-8")

    with pytest.raises(CommandError, match="已于.*载入（来源 notice-2027-test.txt）.*--replace"):
        run("calendar", "load", str(corrected))

    output = run("calendar", "load", str(corrected), "--replace")
    assert "替换原来源 notice-2027-test.txt" in output
    assert "放假 1 天" in output
    assert CalendarYear.objects.get(year=2027).source == "notice-2027-v2.txt"


def test_calendar_load_records_who_loaded_it(django_user_model):
    django_user_model.objects.create(username="admin1")

    run("calendar", "load", str(NOTICE_2027), "--by", "admin1")

    assert CalendarYear.objects.get(year=2027).loaded_by.username == "admin1"
    with pytest.raises(CommandError, match="--by：没有用户 nobody"):
        run("calendar", "load", str(NOTICE_2027), "--replace", "--by", "nobody")


def test_calendar_load_refuses_a_file_that_is_not_utf8_or_not_there(tmp_path):
    gbk = tmp_path / "notice-gbk.txt"
    gbk.write_bytes("year 2027\nholiday 2027-01-01 元旦\n".encode("gbk"))

    with pytest.raises(CommandError, match="不是 UTF-8"):
        run("calendar", "load", str(gbk))
    with pytest.raises(CommandError, match="找不到通知文件"):
        run("calendar", "load", str(tmp_path / "missing.txt"))


def test_calendar_list_shows_shipped_and_loaded_years_with_their_source():
    run("calendar", "load", str(NOTICE_2027))

    lines = run("calendar", "list").splitlines()

    by_year = {line.split()[0]: line for line in lines}
    assert "内置" in by_year["2026"] and SHIPPED_SOURCE in by_year["2026"]
    assert "载入" in by_year["2027"] and "notice-2027-test.txt" in by_year["2027"]
    assert "放假 32 天" in by_year["2027"]
    assert lines[0].startswith("2004") and lines[-1].startswith("2027")


def test_calendar_show_lists_each_holiday_and_makeup_day():
    run("calendar", "load", str(NOTICE_2027))

    lines = run("calendar", "show", "2027").splitlines()

    assert lines[0] == "2027年节假日安排（来源 notice-2027-test.txt）"
    assert len(lines) == 1 + 32 + 5
    assert "2027-01-01 周五  放假  元旦" in lines
    assert "2027-09-26 周日  调休上班  国庆节" in lines
    assert lines[1:] == sorted(lines[1:])


def test_calendar_show_of_a_shipped_year_and_of_an_unknown_one():
    assert "2026-10-01 周四  放假  国庆节" in run("calendar", "show", "2026")
    with pytest.raises(CommandError, match="未载入2030年节假日安排"):
        run("calendar", "show", "2030")


# --- xinfang sweep -------------------------------------------------------------------------------


@pytest.mark.parametrize("processes", [(), ("--processes", "1"), ("--processes", "2")])
def test_sweep_prints_its_summary_as_json(processes):
    output = run("sweep", "--at", "2026-10-09T08:00+08:00", *processes)

    assert json.loads(output) == {
        "at": "2026-10-09T08:00:00+08:00", "overdue": 0, "due_soon": 0, "warnings": 0,
        "analyses": 0, "backlog": 0,
    }


@pytest.mark.django_db(transaction=True)
def test_sweep_every_runs_as_often_as_told():
    lines = run("sweep", "--every", "0.01", "--times", "3").splitlines()

    assert len(lines) == 3
    assert all(json.loads(line)["overdue"] == 0 for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--at", "2026-10-09T08:00"), "--at", id="naive-at"),
        pytest.param(("--at", "yesterday"), "--at", id="unparseable-at"),
        pytest.param(("--times", "2"), "--times 须与 --every 同用", id="times-alone"),
        pytest.param(("--every", "0"), "--every", id="every-zero"),
        pytest.param(("--every", "5", "--times", "0"), "--times", id="times-zero"),
        pytest.param(("--every", "5", "--at", "2026-10-09T08:00+08:00"), "--at", id="at-loop"),
        pytest.param(("--processes", "0"), "--processes 至少为1", id="processes-zero"),
    ],
)
def test_sweep_refuses_bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        run("sweep", *args)
