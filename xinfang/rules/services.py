"""Writes of the rules app: loading a year of the State Council's holiday notice.

A year the system does not know makes every deadline that touches it provisional (SPEC.md, "Clock
conventions"). When an administrator loads that year, those deadlines are recomputed at once and
each case whose clocks moved gets one ``clock_recomputed`` entry in its history, so a clerk can
later show why a date changed under a case nobody touched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .calendar import SHIPPED_SOURCE, YearNotice, parse_notice, shipped_notice, shipped_years
from .deadlines import SHANGHAI
from .engine import recompute_provisional
from .models import CalendarYear
from .store import forget_calendar, working_calendar

CLOCK_RECOMPUTED = "clock_recomputed"


class CalendarRefused(ValueError):
    """A load the rules do not allow; the message says why, in Chinese, and what to do."""


@dataclass(frozen=True)
class CalendarYearInfo:
    """One year the working calendar knows, and where its notice came from."""

    year: int
    source: str
    shipped: bool  # chinese_calendar has the year
    loaded: CalendarYear | None  # an administrator's notice, which wins over the shipped year
    holidays: int
    makeup_workdays: int


@dataclass(frozen=True)
class YearAhead:
    """The first year from this one whose holiday notice is not loaded, and how many clocks
    still counting fall due in it or later on a deadline counted on weekends alone
    (provisional until the year is loaded)."""

    year: int
    clocks: int


def calendar_ahead(now: datetime | None = None) -> YearAhead | None:
    """What the system administrator must load before deadlines can be settled: the first year
    from the present one that neither ships nor was loaded, with the unstopped provisional clocks
    falling due in it or later (one count, ranged on the clocks' status-and-deadline index).
    None while no such clock waits for it."""
    from xinfang.cases.models import Clock

    now = now or timezone.now()
    calendar = working_calendar()
    year = now.astimezone(SHANGHAI).year
    while calendar.is_loaded(year):
        year += 1
    clocks = Clock.objects.filter(
        status__in=[Clock.Status.RUNNING, Clock.Status.PAUSED],
        due_at__gte=datetime(year, 1, 1, tzinfo=SHANGHAI),
        provisional=True,  # a limit in natural days that does not roll is settled already
    ).count()
    return YearAhead(year=year, clocks=clocks) if clocks else None


def calendar_years() -> list[CalendarYearInfo]:
    """Every shipped and loaded year, oldest first, as the engine's calendar sees them."""
    calendar = working_calendar()
    shipped = set(shipped_years())
    loaded = {row.year: row for row in CalendarYear.objects.select_related("loaded_by")}
    rows = []
    for year in calendar.years:
        notice = calendar.notice(year)
        assert notice is not None
        rows.append(
            CalendarYearInfo(
                year=year,
                source=notice.source,
                shipped=year in shipped,
                loaded=loaded.get(year),
                holidays=len(notice.holidays),
                makeup_workdays=len(notice.makeup_workdays),
            )
        )
    return rows


def calendar_load(
    *,
    text: str,
    source: str,
    by: AbstractBaseUser | None = None,
    replace: bool = False,
    at: datetime | None = None,
    ip: str = "",
) -> CalendarYear:
    """Store a year's notice and recompute the deadlines it settles.

    Raises ``NoticeError`` (every bad line at once) for a malformed file and ``CalendarRefused``
    for a year that is shipped or already loaded, unless ``replace``. A replacement overwrites the
    year's one row and also recomputes settled clocks that touch the year; the history entries of
    the cases it moves name the replaced source. The row, the recomputed clocks and their history
    entries are written in one transaction.
    """
    notice = parse_notice(text, source=source)
    at = at or timezone.now()
    try:
        row = _store_and_recompute(
            notice=notice, text=text, source=source, by=by, replace=replace, at=at
        )
        # Audited here, so the page and 'xinfang calendar load' are recorded alike.
        from xinfang.audit.services import CALENDAR_LOAD, audit_record

        audit_record(action=CALENDAR_LOAD, actor=by, object_type="calendar_year",
                     object_id=row.year, ip=ip, actor_name=None if by else "xinfang calendar",
                     detail={"year": row.year, "source": source, "replace": replace,
                             "recomputed_clocks": row.recomputed_clocks})
        return row
    except IntegrityError as e:
        forget_calendar()
        # Someone loaded the same year (or wrote a case's history) at the same moment; the unique
        # constraints caught what the locks could not on a database without row locks (SQLite).
        raise CalendarRefused(
            f"{notice.year}年节假日安排载入时与他人的操作冲突，未载入，请重试。"
        ) from e
    except BaseException:
        # recompute_provisional rebuilt the cached calendar from the row being rolled back.
        forget_calendar()
        raise


@transaction.atomic
def _store_and_recompute(
    *,
    notice: YearNotice,
    text: str,
    source: str,
    by: AbstractBaseUser | None,
    replace: bool,
    at: datetime,
) -> CalendarYear:
    from xinfang.cases.models import Case, Clock
    from xinfang.cases.services.base import append_event

    year = notice.year
    row = CalendarYear.objects.select_for_update().filter(year=year).first()
    shipped = shipped_notice(year) is not None
    if row is not None and not replace:
        raise CalendarRefused(
            f"{year}年节假日安排已于{timezone.localtime(row.loaded_at):%Y-%m-%d}载入"
            f"（来源 {row.source}）。如需更正，请选择替换（命令行加 --replace）。"
        )
    if row is None and shipped and not replace:
        raise CalendarRefused(
            f"{year}年节假日安排已随系统内置（{SHIPPED_SOURCE}）。"
            f"确需以通知文件替换内置日历的，请选择替换（命令行加 --replace）。"
        )
    replaced = row.source if row is not None else (SHIPPED_SOURCE if shipped else None)

    live = Clock.objects.exclude(status=Clock.Status.STOPPED)
    to_recompute = live.filter(provisional=True)
    if replaced:
        # A replaced year may move deadlines that were settled (not provisional) under the old
        # text. Every live clock whose span touches the year is marked, so the engine's one
        # recomputation covers it too; the engine clears the mark where nothing is unsettled.
        first = datetime(year, 1, 1, tzinfo=SHANGHAI)
        after = datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
        to_recompute = live.filter(Q(provisional=True) | Q(started_at__lt=after, due_at__gt=first))
    # Lock the cases first, in a fixed order, as every transition does: a clock must not stop
    # under us, and two writers must not draw the same history sequence number.
    locked = Case.objects.select_for_update().filter(pk__in=to_recompute.values("case_id"))
    list(locked.order_by("pk").values_list("pk", flat=True))
    was_provisional = dict(to_recompute.values_list("pk", "provisional"))
    to_recompute.filter(provisional=False).update(provisional=True)

    if row is None:
        row = CalendarYear(year=year)
    row.text, row.source, row.loaded_by = text, source, by
    row.save()  # before recomputing: the calendar is rebuilt from the stored rows
    if row.loaded_at != at:
        # auto_now_add stamps the wall clock on insert; the load's instant is ``at``.
        CalendarYear.objects.filter(pk=row.pk).update(loaded_at=at)
        row.loaded_at = at
    forget_calendar()
    # Another request may rebuild the cache from the old rows before this commits; forget again.
    transaction.on_commit(forget_calendar)

    per_case: dict[int, list] = defaultdict(list)
    cases = {}
    for clock, old_due, new_due in recompute_provisional():
        if old_due == new_due and clock.provisional == was_provisional.get(clock.pk, True):
            continue  # still waiting for another year, or a replaced year that moved nothing
        per_case[clock.case_id].append((clock, old_due, new_due))
        cases[clock.case_id] = clock.case
    for case_id in sorted(per_case):
        changes = sorted(per_case[case_id], key=lambda change: change[0].name)
        append_event(
            case=cases[case_id],
            type=CLOCK_RECOMPUTED,
            by=None,
            at=at,
            actor_role="system",
            payload={
                "year": year,
                "source": source,
                "replaced": replaced,
                "loaded_by": by.get_username() if by is not None else None,
                "clocks": [
                    {
                        "clock": clock.name,
                        "label": clock.label,
                        "old_due": old_due.astimezone(SHANGHAI).isoformat(),
                        "new_due": new_due.astimezone(SHANGHAI).isoformat(),
                        "provisional": clock.provisional,
                    }
                    for clock, old_due, new_due in changes
                ],
            },
        )
    row.recomputed_clocks = sum(len(changes) for changes in per_case.values())
    row.save(update_fields=["recomputed_clocks"])
    return row
