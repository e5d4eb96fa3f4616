"""Report periods as people write them: a month ``2026-11``, an ISO week ``2026-W48``, a quarter
``2026-Q4`` and a year ``2026``. A period is a half-open span of local dates ``[start, end)``;
``bounds`` gives it as aware datetimes in the project's time zone, the form every filter uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

KINDS = ("week", "month", "quarter", "year")
KIND_LABELS = {"week": "周", "month": "月", "quarter": "季度", "year": "年"}
_PATTERNS = {
    "week": re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I),
    "month": re.compile(r"^(\d{4})-(\d{1,2})$"),
    "quarter": re.compile(r"^(\d{4})-?Q([1-4])$", re.I),
    "year": re.compile(r"^(\d{4})$"),
}
_EXAMPLES = {"week": "2026-W48", "month": "2026-11", "quarter": "2026-Q4", "year": "2026"}


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive
    code: str

    @property
    def label(self) -> str:
        y = self.start.year
        if self.kind == "week":
            last = self.end - timedelta(days=1)
            return (f"{self.start.isocalendar()[0]}年第{self.start.isocalendar()[1]}周"
                    f"（{self.start:%m月%d日}—{last:%m月%d日}）")
        if self.kind == "month":
            return f"{y}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{y}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{y}年"

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=tz),
                datetime.combine(self.end, time.min, tzinfo=tz))

    def previous(self) -> Period:
        return containing(self.kind, self.start - timedelta(days=1))


def parse(kind: str, text: str) -> Period:
    """The period of ``kind`` written as ``text``; ``BadPeriod`` names the expected form."""
    if kind not in KINDS:
        raise BadPeriod(f"周期类型应为 {'、'.join(KINDS)} 之一，不是“{kind}”。")
    text = (text or "").strip()
    m = _PATTERNS[kind].match(text)
    if not m:
        raise BadPeriod(f"期间“{text}”无法识别，{KIND_LABELS[kind]}报应写作 {_EXAMPLES[kind]}。")
    year = int(m.group(1))
    if not 2000 <= year <= 2100:
        raise BadPeriod(f"期间“{text}”的年份超出范围（2000—2100）。")
    try:
        if kind == "week":
            start = date.fromisocalendar(year, int(m.group(2)), 1)
            return Period(kind, start, start + timedelta(days=7), f"{year}-W{int(m.group(2)):02d}")
        if kind == "month":
            start = date(year, int(m.group(2)), 1)
            return Period(kind, start, _add_months(start, 1), f"{year}-{start.month:02d}")
        if kind == "quarter":
            start = date(year, 3 * (int(m.group(2)) - 1) + 1, 1)
            return Period(kind, start, _add_months(start, 3), f"{year}-Q{m.group(2)}")
    except ValueError as e:
        raise BadPeriod(f"期间“{text}”不存在（{e}）。") from e
    return Period(kind, date(year, 1, 1), date(year + 1, 1, 1), str(year))


def containing(kind: str, day: date) -> Period:
    """The period of ``kind`` that ``day`` falls in."""
    if kind == "week":
        y, w, _ = day.isocalendar()
        return parse(kind, f"{y}-W{w}")
    if kind == "month":
        return parse(kind, f"{day.year}-{day.month}")
    if kind == "quarter":
        return parse(kind, f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    return parse(kind, str(day.year))


def current(kind: str) -> Period:
    return containing(kind, timezone.localdate())


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def from_query(params, *, default_kind: str = "") -> tuple[Period | None, str]:
    """The period a page's ``kind`` and ``period`` parameters name (``None``: all time), and the
    error to show when they cannot be read (then the period is ``None`` too)."""
    kind = (params.get("kind") or default_kind or "").strip()
    if kind in ("", "all"):
        return None, ""
    text = (params.get("period") or "").strip()
    try:
        return (parse(kind, text) if text else current(kind)), ""
    except BadPeriod as e:
        return None, str(e)
