"""Cases the profile sends to the backlog register (积案台账, seed 001 二(三)) by themselves.

A profile whose ``registers`` section has a ``backlog`` register sends a case there when
- it is a repeat petition owned by a leader (领导包案的重复访): at the transition that names the
  leader (``set_leader_owner``), or at the next sweep when the case becomes a repeat afterwards;
- it is still open one register ``period`` (week, month, quarter, year) after acceptance
  (逾期未化解): at the first sweep after that instant. Without a ``period`` only the first rule
  acts.

Both are idempotent: a case enters once (the register's one-to-one link); two sweeps at once, or a
sweep beside the transition, make one line — the sweep works a batch of cases under their locks,
as a transition does, and reads which are on the register once it holds them; a line entered
meanwhile without the lock is skipped by the link. The line takes its L2 columns from the case
(``services.case_columns``) and its 包案人 from the case's leader owner; the office completes
积案原因, 一案一策 and the rest on the register page. """

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.bulk import insert_rows
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.services.base import EVENT_ROW, append_event, chained_row, history_heads
from xinfang.rules.consumers import consumes
from xinfang.rules.models import ProfileVersion
from xinfang.rules.store import profile_of

from .models import BacklogCase, _name_index

REASONS = {
    BacklogCase.Entry.LEADER_REPEAT: "领导包案的重复访（第{n}次信访）",
    BacklogCase.Entry.UNSETTLED: "受理后逾{period}仍未化解",
}
PERIOD_LABELS = {"week": "一周", "month": "一个月", "quarter": "一个季度", "year": "一年"}
BATCH = 500


@consumes("registers.name", "registers.period", by="xinfang.registers.backlog.backlog_rule")
def backlog_rule(profile):
    return next((r for r in profile.registers if r.name == "backlog"), None)


def period_before(at: datetime, period: str) -> datetime:
    """The instant one ``period`` before ``at`` (calendar months, the last day kept in range)."""
    if period == "week":
        return at - timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    local = timezone.localtime(at)
    total = local.year * 12 + local.month - 1 - months
    year, month = divmod(total, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def _reason(case: Case, entry: str) -> str:
    return _reason_of(backlog_rule(profile_of(case.profile)), entry, case.repeat_count)


def _reason_of(rule, entry: str, repeat_count: int) -> str:
    period = ""
    if rule is not None and rule.period:
        period = PERIOD_LABELS.get(rule.period, rule.period)
    return REASONS[entry].format(n=repeat_count + 1, period=period)


def backlog_enter(*, case: Case, entry: str, at: datetime,
                  event: bool = True) -> BacklogCase | None:
    """Put ``case`` on the backlog register as ``entry`` unless it is there already."""
    from .services import case_columns

    if BacklogCase.objects.filter(case_id=case.pk).exists():
        return None
    reason = _reason(case, entry)
    try:
        with transaction.atomic():
            line = BacklogCase.objects.create(
                **case_columns(case), entry=entry, reason=reason,
                owner_leader_id=case.leader_owner_id, designated_at=at)
    except IntegrityError:
        return None  # entered meanwhile by a concurrent sweep or transition
    if event:
        append_event(case=case, type="backlog_entered", by=None, at=at,
                     payload={"entry": entry, "reason": reason})
    return line


# What a sweep batch reads of each case, under its lock: ``case_columns_many``'s and the
# reason's and history's needs, as plain rows.
_CASE_VALUES = ("pk", "profile_id", "repeat_count", "leader_owner_id", "jurisdiction_id",
                "received_at", "matter_root_id", "exited_household", "monitored_household",
                "township_id", "village_id", "matter")
# A line entered by the sweep: its case's columns (``case_columns_many``), then its own.
_CASE_COLUMNS = ("case_id", "jurisdiction_id", "first_petition_on", "exited_or_monitored",
                 "township_id", "village_id", "problem", "category", "responsible_unit_id")
_LINE_ROW = (*_CASE_COLUMNS, "entry", "reason", "owner_leader_id", "designated_at",
             "person_name", "name_index", "contact", "locality_text", "owner_leader_text",
             "responsible_unit_text", "note", "plan", "outcome", "updated_at")


def _enter_batch(cases: list, *, entry: str, at: datetime, rules: dict,
                 versions: dict[int, ProfileVersion]) -> int:
    """``backlog_enter`` for a sweep batch whose cases (rows of ``_CASE_VALUES``) the caller
    has locked: the lines in one INSERT, their history entries in one, written from plain
    values (a first pass enters tens of thousands). A line entered meanwhile by a writer that
    does not take the case's lock (a leader designating it) is skipped by the one-to-one link,
    and the case gets no entry of ours. ``rules``: the backlog rule of each profile version."""
    from .services import case_columns_many

    there = set(BacklogCase.objects.filter(case_id__in=[case.pk for case in cases])
                .values_list("case_id", flat=True))
    cases = [case for case in cases if case.pk not in there]
    if not cases:
        return 0
    columns = case_columns_many(cases)
    reasons = {case.pk: _reason_of(rules[case.profile_id], entry, case.repeat_count)
               for case in cases}
    # the columns a sweep's line leaves blank, as the model's defaults and ``save`` set them
    blank = ("", _name_index(""), "", "", "", "", "", "", "", timezone.now())
    insert_rows(BacklogCase, _LINE_ROW, [
        (*map(columns[case.pk].__getitem__, _CASE_COLUMNS), entry, reasons[case.pk],
         case.leader_owner_id, at, *blank)
        for case in cases], ignore_conflicts=True)
    ours = set(BacklogCase.objects.filter(
        case_id__in=[case.pk for case in cases], entry=entry, designated_at=at,
        designated_by=None).values_list("case_id", flat=True))
    heads = history_heads(ours)
    insert_rows(CaseEvent, EVENT_ROW, [
        chained_row(case.pk, (versions[case.profile_id].code, versions[case.profile_id].version),
                    heads, at=at, type="backlog_entered",
                    payload={"entry": entry, "reason": reasons[case.pk]})
        for case in cases if case.pk in ours])
    return len(ours)


def on_leader_owner(*, case: Case, at: datetime) -> bool:
    """From the ``set_leader_owner`` effect: a repeat petition now owned by a leader enters the
    register now, when its profile keeps one. The transition's own event records it."""
    if case.leader_owner_id is None or not case.repeat_count:
        return False
    if backlog_rule(profile_of(case.profile)) is None:
        return False
    return backlog_enter(case=case, entry=BacklogCase.Entry.LEADER_REPEAT, at=at,
                         event=False) is not None


def backlog_sweep(*, at: datetime, part: int = 0, parts: int = 1) -> int:
    """Every open case the profile sends to the backlog register and that is not there yet
    (those whose id is ``part`` modulo ``parts``: a sweep split between processes)."""
    rules = {}
    # Profile versions are few and their texts long: read each once, never joined per case.
    versions = ProfileVersion.objects.in_bulk()
    for version in versions.values():
        rule = backlog_rule(profile_of(version))
        if rule is not None:
            rules[version.pk] = rule
    if not rules:
        return 0
    missing = ~Exists(BacklogCase.objects.filter(case=OuterRef("pk")))
    open_cases = Case.objects.filter(missing, state__in=c.OPEN_STATES, profile_id__in=list(rules))
    entered = 0
    groups = [(BacklogCase.Entry.LEADER_REPEAT,
               open_cases.filter(leader_owner__isnull=False, repeat_count__gt=0))]
    for period in sorted({r.period for r in rules.values() if r.period}):
        keeping = [pk for pk, r in rules.items() if r.period == period]
        groups.append((BacklogCase.Entry.UNSETTLED, open_cases.filter(
            profile_id__in=keeping, accepted_at__lt=period_before(at, period))))
    for entry, qs in groups:
        # The cases in one statement (an anti-join, 0.45 s at a million cases); paged by
        # ``pk > last … LIMIT`` the planner walked the primary key through every case instead.
        ids = [pk for pk in qs.order_by("pk").values_list("pk", flat=True)
               if parts == 1 or pk % parts == part]
        for i in range(0, len(ids), BATCH):
            with transaction.atomic():
                # under the cases' locks, as a transition appends to their history, the
                # group's conditions read again under them
                batch = list(qs.filter(pk__in=ids[i:i + BATCH])
                             .select_for_update(of=("self",)).order_by("pk")
                             .values_list(*_CASE_VALUES, named=True))
                if batch:
                    entered += _enter_batch(batch, entry=entry, at=at, rules=rules,
                                            versions=versions)
    return entered
