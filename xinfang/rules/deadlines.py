"""Deadline computation under SPEC.md "Clock conventions" (all Asia/Shanghai).

Units:

- ``hours`` — exactly N hours after the start instant.
- ``same_day`` — 24:00 of the start day; the amount must be 0 or 1 (anything else is taken
  for a profile typo).
- ``days`` / ``weeks`` (7 days each) — the start day is not counted; the deadline is 24:00 of
  the Nth following calendar day; if that day is not a working day and ``roll`` is on, 24:00
  of the next working day.
- ``working_days`` — the start day is not counted, whatever the time; 24:00 of the Nth
  following working day.

An amount of 0 gives 24:00 of the start day (for ``days``/``weeks`` still rolled when that
day is not a working day). "24:00 of day D" is the instant D+1 00:00:00+08:00; the UI shows
it as "D 24时".

A result is provisional when any day the computation had to classify (counted, skipped or
rolled over) lies in a year whose notice is not loaded; ``hours`` and ``same_day`` never
consult the calendar. ``Due.steps`` explains the date in lines a clerk can read out to a
petitioner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from xinfang.rules.calendar import DayInfo, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNITS = ("hours", "same_day", "days", "weeks", "working_days")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Due:
    due: datetime
    provisional: bool
    steps: list[str]

    def to_json(self) -> dict[str, object]:
        return {"due": self.due.isoformat(), "provisional": self.provisional}


@dataclass
class _Run:
    """Consecutive days classified alike, shown as one explanation line."""

    first: date
    last: date
    label: str  # for the run; a single day shows its own reason
    reason: str  # of the first day
    verdict: str  # for days not counted as working days
    first_no: int = 0  # working-day numbers counted in the run, 0 if none
    last_no: int = 0


def compute_due(
    start: datetime,
    amount: int,
    unit: str,
    *,
    calendar: WorkingCalendar,
    roll: bool = True,
) -> Due:
    if unit not in UNITS:
        raise ValueError(f"未知的时限单位 {unit!r}，应为 {'、'.join(UNITS)} 之一")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"时限数量必须是不小于0的整数，收到 {amount!r}")
    if not isinstance(start, datetime) or start.utcoffset() is None:
        raise ValueError(f"起算时间必须是带时区的 datetime，收到 {start!r}")
    start = start.astimezone(SHANGHAI)
    steps = [f"起算：{_clock_text(start)}（北京时间）"]

    if unit == "hours":
        steps.append(f"规则：{amount}小时，自起算时刻起满{amount}小时")
        due = (start.astimezone(UTC) + timedelta(hours=amount)).astimezone(SHANGHAI)
        return _finish(due, steps, provisional_years=set())
    if unit == "same_day":
        if amount not in (0, 1):
            raise ValueError(f"same_day 的数量只能是0或1，收到 {amount!r}")
        steps.append("规则：当天，至起算当日24时")
        return _finish(_end_of(start.date()), steps, provisional_years=set())
    if unit == "working_days":
        return _working_days(start, amount, calendar, steps)
    return _calendar_days(start, amount, unit, calendar, roll, steps)


def _calendar_days(
    start: datetime,
    amount: int,
    unit: str,
    calendar: WorkingCalendar,
    roll: bool,
    steps: list[str],
) -> Due:
    n = amount * 7 if unit == "weeks" else amount
    size = f"{amount}周（{n}日）" if unit == "weeks" else f"{n}日"
    tail = (
        "期满日为节假日或周末的，顺延至其后第一个工作日24时"
        if roll
        else "期满日逢节假日、周末不顺延"
    )
    steps.append(f"规则：{size}，起算当日不计，至第{n}日24时；{tail}")

    day = start.date() + timedelta(days=n)
    runs: list[_Run] = []
    provisional_years: set[int] = set()
    if roll:
        info = _classify(calendar, day, provisional_years)
        while not info.working:
            _extend(runs, day, info, "非工作日，顺延")
            day += _ONE_DAY
            info = _classify(calendar, day, provisional_years)
        verdict = "顺延至此，为期满日" if runs else "为期满日"
        runs.append(_Run(day, day, info.reason, info.reason, verdict))

    with_year = start.year != day.year
    if n:
        first, last = start.date() + _ONE_DAY, start.date() + timedelta(days=n)
        counted = f"计第1–{n}日" if n > 1 else "计第1日"
        steps.append(f"{_span(first, last, with_year)} 日历日 {counted}")
    steps.extend(_run_line(run, with_year) for run in runs)
    if not roll:
        steps.append(f"{_day_text(day, with_year)} 为期满日")
    return _finish(_end_of(day), steps, provisional_years)


def _working_days(start: datetime, amount: int, calendar: WorkingCalendar, steps: list[str]) -> Due:
    steps.append(f"规则：{amount}个工作日，起算当日不计（不论几时起算），至第{amount}个工作日24时")
    day = start.date()
    counted = 0
    runs: list[_Run] = []
    provisional_years: set[int] = set()
    while counted < amount:
        day += _ONE_DAY
        info = _classify(calendar, day, provisional_years)
        if info.working:
            counted += 1
            _extend(runs, day, info, "计", number=counted)
        else:
            _extend(runs, day, info, "不计")

    with_year = start.year != day.year
    steps.extend(_run_line(run, with_year) for run in runs)
    return _finish(_end_of(day), steps, provisional_years)


def _classify(calendar: WorkingCalendar, day: date, provisional_years: set[int]) -> DayInfo:
    info = calendar.day(day)
    if info.provisional:
        provisional_years.add(day.year)
    return info


def _extend(runs: list[_Run], day: date, info: DayInfo, verdict: str, number: int = 0) -> None:
    last = runs[-1] if runs else None
    if (
        last is not None
        and last.verdict == verdict
        and last.last + _ONE_DAY == day
        and (last.reason == info.reason or last.label == _run_label(info.reason))
    ):
        last.last, last.last_no = day, number
    else:
        runs.append(_Run(day, day, _run_label(info.reason), info.reason, verdict, number, number))


def _run_label(reason: str) -> str:
    # Saturday and Sunday are one run ("周末"), including a provisional "周六（未载入…）".
    if reason[:2] in ("周六", "周日"):
        return "周末" + reason[2:]
    return reason


def _run_line(run: _Run, with_year: bool) -> str:
    what = run.reason if run.first == run.last else run.label
    verdict = run.verdict
    if run.first_no:
        numbers = (
            f"{run.first_no}" if run.first_no == run.last_no else f"{run.first_no}–{run.last_no}"
        )
        verdict = f"计第{numbers}个工作日"
    # No space after a full-width bracket: "09-20 调休上班（国庆节）计第1个工作日".
    sep = "" if what.endswith("）") else " "
    return f"{_span(run.first, run.last, with_year)} {what}{sep}{verdict}"


def _span(first: date, last: date, with_year: bool) -> str:
    if first == last:
        return _day_text(first, with_year)
    return f"{_day_text(first, with_year)}…{_day_text(last, with_year)}"


def _day_text(day: date, with_year: bool) -> str:
    # Hand-formatted: strftime dominated the cost of a 60-working-day explanation.
    if with_year:
        return f"{day.year}-{day.month:02d}-{day.day:02d}"
    return f"{day.month:02d}-{day.day:02d}"


def _end_of(day: date) -> datetime:
    return datetime.combine(day + _ONE_DAY, time(0), tzinfo=SHANGHAI)


def deadline_text(due: datetime) -> str:
    """A deadline as the seeds write it, in Beijing time: "2026-10-08 24时"."""
    return _deadline_text(due.astimezone(SHANGHAI))


def _deadline_text(due: datetime) -> str:
    if due.time() == time(0):
        # An end-of-day instant reads as 24时 of the day before, as the seeds write it.
        return f"{(due.date() - _ONE_DAY).isoformat()} 24时"
    return _clock_text(due)


def _clock_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


def _finish(due: datetime, steps: list[str], provisional_years: set[int]) -> Due:
    steps.append(f"期限：{_deadline_text(due)}")
    if provisional_years:
        years = "、".join(str(y) for y in sorted(provisional_years))
        steps.append(
            f"暂定：未载入{years}年国务院节假日安排，该年日期按周一至周五为工作日推定；载入后须重算"
        )
    return Due(due=due, provisional=bool(provisional_years), steps=steps)
