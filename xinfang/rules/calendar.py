"""The official working-day calendar (SPEC.md, "Clock conventions").

A working day is Monday to Friday unless the State Council's yearly notice makes it a
statutory holiday, plus any Saturday or Sunday the notice makes a working day (调休上班). Each
year's notice is data: the years the ``chinese_calendar`` package knows ship with the system;
an administrator loads a later year from a small text file typed from the notice. Days in a
year that is not loaded are classified by weekends alone and marked provisional — never
guessed silently.

Notice file format (UTF-8, one statement a line)::

    # 国务院办公厅关于2027年部分节假日安排的通知
    year 2027
    holiday 2027-01-01 2027-01-03 元旦
    holiday 2027-04-05 清明节
    workday 2027-02-20 春节

- ``year YYYY`` — exactly once, anywhere in the file.
- ``holiday START [END] 名称`` — one day or an inclusive range of days off, weekends inside
  included (``START 至 END`` also reads).
- ``workday DATE [END] 名称`` — a Saturday or Sunday made a working day; 名称 is the holiday
  it serves.
- Chinese keywords work too: ``年份``, ``放假``, ``上班``. Dates are ``YYYY-MM-DD``
  (``2027-1-1`` is accepted). ``#`` starts a comment; blank lines are ignored; full-width
  spaces count as spaces.

Every problem in the file is reported at once, each with its line number, as a
``NoticeError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import chinese_calendar

# Where a shipped year's holidays come from, as the calendar page and the history say it.
SHIPPED_SOURCE = f"国务院办公厅节假日安排（随系统内置，数据版本 {chinese_calendar.__version__}）"

# chinese_calendar keys its tables by English names; these are the names the notice itself uses.
_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

_WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# No notice has ever given more than 9 consecutive days off; a longer range is almost surely a typo
# (a wrong month) that would silently stop every clock in the province.
MAX_HOLIDAY_RANGE_DAYS = 31


@dataclass(frozen=True)
class YearNotice:
    year: int
    holidays: dict[date, str]
    makeup_workdays: dict[date, str]
    source: str


@dataclass(frozen=True, slots=True)
class DayInfo:
    working: bool
    provisional: bool
    reason: str


@dataclass(frozen=True)
class NoticeLineError:
    line: int  # 1-based; 0 for a problem with the file as a whole
    message: str  # complete, e.g. "第5行：日期 2027-02-30 无效"


class NoticeError(ValueError):
    def __init__(self, errors: list[NoticeLineError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.message for e in errors))


# --- shipped years -------------------------------------------------------------------------------


def _chinese_name(english: str) -> str:
    return _CHINESE_NAMES.get(english, english)


def shipped_years() -> range:
    first = min(chinese_calendar.holidays).year
    last = max(chinese_calendar.holidays).year
    return range(first, last + 1)


def shipped_notice(year: int) -> YearNotice | None:
    """The notice for ``year`` as shipped in ``chinese_calendar``; None if it lacks the year."""
    try:
        # The package raises for years outside its tables rather than guessing; we rely on that.
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except (NotImplementedError, ValueError, OverflowError):
        return None
    holidays = {d: _chinese_name(n) for d, n in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d: _chinese_name(n) for d, n in chinese_calendar.workdays.items() if d.year == year}
    if not holidays:
        return None
    return YearNotice(year=year, holidays=holidays, makeup_workdays=workdays, source=SHIPPED_SOURCE)


# --- the administrator's notice file -------------------------------------------------------------

_KEYWORDS = {
    "year": "year",
    "年份": "year",
    "holiday": "holiday",
    "放假": "holiday",
    "workday": "workday",
    "上班": "workday",
}
# So that "holiday 2027-10-01 至 2027-10-07 国庆节" reads as the notice does.
_RANGE_WORDS = frozenset({"至", "到", "~", "～"})
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass
class _Entry:
    line: int
    kind: str  # "holiday" or "workday"
    days: list[date]
    name: str


@dataclass
class _Parse:
    errors: list[NoticeLineError] = field(default_factory=list)
    years: list[tuple[int, int]] = field(default_factory=list)  # (line, year)
    bad_year_line: bool = False
    entries: list[_Entry] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        prefix = f"第{line}行：" if line else "通知文件："
        self.errors.append(NoticeLineError(line=line, message=prefix + message))


def _parse_date(token: str) -> date | str:
    """A date, or an error message for a malformed one."""
    m = _DATE_RE.match(token)
    if not m:
        return f"无法识别的日期 {token}（应写作 2027-01-01）"
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return f"日期 {token} 无效"


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _parse_line(p: _Parse, no: int, tokens: list[str]) -> None:
    keyword = _KEYWORDS.get(tokens[0].lower())
    if keyword is None:
        p.error(no, f"未知关键字 {tokens[0]}（应为 year、holiday 或 workday）")
        return
    if keyword == "year":
        if len(tokens) != 2 or not re.fullmatch(r"\d{4}", tokens[1]):
            p.error(no, "年份行应写作：year 2027")
            p.bad_year_line = True
        else:
            p.years.append((no, int(tokens[1])))
        return

    usage = f"应写作：{tokens[0]} 开始日期 [结束日期] 节日名称"
    args = [t for t in tokens[1:] if t not in _RANGE_WORDS]
    if not args or len(args) > 3:
        p.error(no, f"格式不对，{usage}")
        return
    name = args[-1]
    if len(args) == 1 or re.fullmatch(r"[\d\-./]+", name):
        p.error(no, f"缺少节日名称，{usage}")
        return
    dates: list[date] = []
    for token in args[:-1]:
        parsed = _parse_date(token)
        if isinstance(parsed, str):
            p.error(no, parsed)
            return
        dates.append(parsed)
    start, end = dates[0], dates[-1]
    if end < start:
        p.error(no, f"结束日期 {end} 早于开始日期 {start}")
        return
    days = _days(start, end)
    if len(days) > MAX_HOLIDAY_RANGE_DAYS:
        p.error(
            no,
            f"{start} 至 {end} 共 {len(days)} 天，超过 {MAX_HOLIDAY_RANGE_DAYS} 天，请核对日期",
        )
        return
    p.entries.append(_Entry(line=no, kind=keyword, days=days, name=name))


def _lines(p: _Parse, text: str) -> Iterator[tuple[int, list[str]]]:
    for no, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        # The file's text is stored with the year: a NUL (which PostgreSQL refuses) or another
        # control character, even in a comment, is the line's error, not the database's.
        control = _CONTROL.search(raw)
        if control:
            p.error(no, f"含有控制字符（U+{ord(control[0]):04X}），通知文件应为纯文本")
            continue
        tokens = raw.split("#", 1)[0].split()
        if tokens:
            yield no, tokens


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def parse_notice(text: str, *, source: str) -> YearNotice:
    """Parse an administrator's notice file (format in the module docstring)."""
    p = _Parse()
    for no, tokens in _lines(p, text):
        _parse_line(p, no, tokens)

    year: int | None = None
    if not p.years:
        if not p.bad_year_line:
            p.error(0, "缺少年份行（例如：year 2027）")
    else:
        first_line, year = p.years[0]
        for no, _ in p.years[1:]:
            p.error(
                no,
                f"年份行重复（第{first_line}行已写 year {year}），每个文件只写一个年份",
            )

    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    seen: dict[date, tuple[str, int]] = {}  # date -> (kind, line) of its first listing
    for entry in p.entries:
        for d in entry.days:
            if year is not None and d.year != year:
                p.error(entry.line, f"日期 {d} 不在 {year} 年内")
                break
            if entry.kind == "workday" and d.weekday() < 5:
                p.error(
                    entry.line,
                    f"{d} 是{_WEEKDAY_NAMES[d.weekday()]}，调休上班日必须是周六或周日",
                )
                continue
            if d in seen:
                kind, line = seen[d]
                what = "放假" if kind == "holiday" else "调休上班"
                if kind != entry.kind:
                    p.error(entry.line, f"{d} 已在第{line}行列为{what}，不能既放假又上班")
                else:
                    p.error(entry.line, f"{d} 已在第{line}行列为{what}，重复列出")
                continue
            seen[d] = (entry.kind, entry.line)
            (holidays if entry.kind == "holiday" else workdays)[d] = entry.name

    if not p.errors and not holidays:
        p.error(0, "没有任何放假日期（holiday 行）")
    if p.errors:
        p.errors.sort(key=lambda e: e.line)
        raise NoticeError(p.errors)
    assert year is not None
    return YearNotice(year=year, holidays=holidays, makeup_workdays=workdays, source=source)


# --- the calendar ---------------------------------------------------------------------------------


class WorkingCalendar:
    """Classifies days against loaded yearly notices; unloaded years fall back to weekends only."""

    def __init__(self, notices: Mapping[int, YearNotice]) -> None:
        for year, notice in notices.items():
            if notice.year != year:
                raise ValueError(f"notice for {notice.year} filed under year {year}")
        self._notices = dict(notices)
        # Deadlines are computed by the million; each date is classified once per calendar.
        self._days: dict[date, DayInfo] = {}

    @classmethod
    def shipped(cls, extra: Mapping[int, YearNotice] | None = None) -> WorkingCalendar:
        """All years ``chinese_calendar`` ships, overlaid by ``extra`` (loaded notices win)."""
        notices: dict[int, YearNotice] = {}
        for year in shipped_years():
            notice = shipped_notice(year)
            if notice is not None:
                notices[year] = notice
        notices.update(extra or {})
        return cls(notices)

    @property
    def years(self) -> list[int]:
        return sorted(self._notices)

    def notice(self, year: int) -> YearNotice | None:
        return self._notices.get(year)

    def is_loaded(self, year: int) -> bool:
        return year in self._notices

    def is_working_day(self, d: date) -> bool:
        return self.day(d).working

    def day(self, d: date) -> DayInfo:
        info = self._days.get(d)
        if info is None:
            info = self._days[d] = self._classify(d)
        return info

    def _classify(self, d: date) -> DayInfo:
        if isinstance(d, datetime):
            # A datetime never equals a date key, so it would silently miss every holiday.
            raise TypeError(f"expected a date, got a datetime: {d!r}")
        weekday = d.weekday()
        weekend = weekday >= 5
        plain = _WEEKDAY_NAMES[weekday] if weekend else "工作日"
        notice = self._notices.get(d.year)
        if notice is None:
            return DayInfo(
                working=not weekend,
                provisional=True,
                reason=f"{plain}（未载入{d.year}年日历，按周末推定）",
            )
        if d in notice.holidays:
            return DayInfo(working=False, provisional=False, reason=notice.holidays[d])
        if d in notice.makeup_workdays:
            return DayInfo(
                working=True,
                provisional=False,
                reason=f"调休上班（{notice.makeup_workdays[d]}）",
            )
        return DayInfo(working=not weekend, provisional=False, reason=plain)
