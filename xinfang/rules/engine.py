"""Clocks follow the case's profile: each workflow event starts, stops, pauses, resumes or extends
the clocks whose rules name it. The workflow calls ``apply_event`` inside its transaction."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from .consumers import consumes
from .deadlines import SHANGHAI, Due, compute_due
from .profile import EVENT_FAMILIES, AnalysisRule, ClockRule, Profile, ReportBackRule
from .store import working_calendar


def _last_day(due: datetime) -> datetime:
    """A deadline of "24:00 of day D" is stored as D+1 00:00; an extension counts from day D,
    so start it a moment before midnight (else the extension would be a day too long)."""
    return due - timedelta(microseconds=1)


def _names(event_key: str, keys) -> bool:
    """``contact_logged:phone`` is heard by rules that name it or plain ``contact_logged``.
    Only the families a profile may name (EVENT_FAMILIES) are heard that way: an assisting
    unit's ``signed_for:assist`` is not the handling organ's receipt, so ``signed_for`` rules
    must not hear it."""
    if event_key in keys:
        return True
    base = event_key.split(":", 1)[0]
    return base in EVENT_FAMILIES and base in keys


@consumes("clocks", "review_windows", "report_back.amount", "report_back.unit",
          "report_back.start", "report_back.when", "analysis.unsettled_days", "analysis.start",
          "analysis.settled_on", by="xinfang.rules.engine.clock_rules")
def clock_rules(profile: Profile) -> tuple[ClockRule, ...]:
    """The profile's clocks, its review windows, each report-back limit and the cause-analysis
    duty as clocks. Derived once per parsed profile and kept on it, as ``all_clocks`` is (a
    profile is frozen, and ``rules.store`` keeps one per stored version): a transition asks twice,
    in ``heard`` and ``apply_event``, and each derivation built some twenty rules (lead22)."""
    rules = profile.__dict__.get(_CLOCK_RULES)
    if rules is None:
        rules = profile.all_clocks + tuple(_report_back_clock(r) for r in profile.report_back)
        if profile.analysis is not None:
            rules += (analysis_clock(profile.analysis),)
        if profile.closing.rating_open_for is not None:
            rules += (rating_window(profile),)
        profile.__dict__[_CLOCK_RULES] = rules  # beside the dataclass's fields, as cached_property
    return rules


_CLOCK_RULES = "_clock_rules"


RATING_WINDOW = "rating_window"


@consumes("closing.rating_open_for", by="xinfang.rules.engine.rating_window")
def rating_window(profile: Profile) -> ClockRule:
    """How long the petitioner may rate: a window from delivery of the answer to the rating. It
    outlives closing (windows do), so the rating can still be given on a closed case."""
    span = profile.closing.rating_open_for
    return ClockRule(
        name=RATING_WINDOW, label="满意度评价期限", start=("letter_delivered",),
        stop=("rating_recorded",), amount=span.amount, unit=span.unit, kind="window",
        seed=profile.closing.seed,
    )


ANALYSIS_CLOCK = "analysis"


def analysis_clock(rule: AnalysisRule) -> ClockRule:
    """Seed 002 §五(二): a case not settled ``unsettled_days`` after acceptance owes a cause
    analysis. A clock like any other: due 24:00 of the 60th day (rolled to a working day), shown
    on the case and swept; settling the case (``settled_on``) stops it."""
    return ClockRule(
        name=ANALYSIS_CLOCK,
        label=f"受理{rule.unsettled_days}日内息访（逾期须分析未息访原因及症结、制定下一步措施）",
        start=rule.start, stop=rule.settled_on, amount=rule.unsettled_days, unit="days",
        alert=("approver",), due_soon_hours=72, seed=rule.seed,
    )


def _report_back_clock(rule: ReportBackRule) -> ClockRule:
    """A limit (``amount`` + ``unit``), or a weekly batch: due at the next ``weekly`` weekday and
    time after the start (jianan: Friday 10:00), computed by ``weekly_due``."""
    if rule.weekly is not None:
        return ClockRule(
            name=f"report_back:{rule.name}", label=rule.label, start=rule.start,
            stop=("reported_back",), amount=0, unit="hours", when=rule.when, roll=False,
            alert=("clerk", "approver"), seed=rule.seed, due_soon_hours=24,
        )
    return ClockRule(
        name=f"report_back:{rule.name}", label=rule.label, start=rule.start,
        stop=("reported_back",), amount=rule.amount, unit=rule.unit, when=rule.when,
        alert=("clerk", "approver"), seed=rule.seed,
    )


@consumes("report_back.weekly", by="xinfang.rules.engine.weekly_due")
def weekly_due(at: datetime, weekly) -> Due:
    """The first ``weekly.weekday`` at ``weekly.time`` (Shanghai) after ``at``."""
    local = at.astimezone(SHANGHAI)
    day = local.date() + timedelta(days=(weekly.weekday - local.weekday()) % 7)
    due = datetime.combine(day, weekly.time, tzinfo=SHANGHAI)
    if due <= local:
        due += timedelta(days=7)
    names = "一二三四五六日"
    return Due(due, False, [f"起算：{local:%Y-%m-%d %H:%M}（北京时间）",
                            f"规则：每周{names[weekly.weekday]}{weekly.time:%H:%M}前报送",
                            f"期限：{due:%Y-%m-%d %H:%M}"])


def weekly_rules(profile: Profile) -> dict:
    """The weekly batches' clocks by name, with their weekday and time (``weekly_due``)."""
    return {f"report_back:{r.name}": r.weekly for r in profile.report_back if r.weekly}


def base_due(profile: Profile, name: str, at: datetime, amount: int, unit: str, roll: bool,
             calendar) -> Due:
    """The deadline of the clock ``name`` started at ``at``, before any extension or pause: a
    weekly batch's next weekday and time (its rule's 0 hours would put it at its own start),
    else the limit counted on the calendar."""
    weekly = weekly_rules(profile).get(name)
    if weekly is not None:
        return weekly_due(at, weekly)
    return compute_due(at, amount, unit, calendar=calendar, roll=roll)


def move_due(clock, due: datetime) -> list[str]:
    """Give ``clock`` the deadline ``due``; returns the fields to save. A deadline that moved
    (an extension, a pause given back, a calendar or a profile recomputed) owes its due-soon
    and overdue alerts again: the sweep raises them once per deadline (``Alert.due_at``)."""
    if due == clock.due_at:
        return []
    clock.due_at = due
    clock.due_soon_alerted = clock.overdue_alerted = False
    return ["due_at", "due_soon_alerted", "overdue_alerted"]


def _already_stopped(case, rule: ClockRule, seen: list[set[str]]) -> bool:
    """A clock is not started when its stop event has already happened (e.g. the acceptance
    notice was delivered before the lead unit signed for the case). History since the last
    reopening counts: a relapse starts the handling clocks afresh."""
    if not seen:
        from xinfang.cases.services.base import LAST_SEQ_HINT

        events = case.events.order_by("seq").values_list("seq", "mac", "type", "payload")
        keys: set[str] = set()
        last = (0, "")
        for seq, mac, type_, payload in events:
            last = (seq, mac)
            if type_ == "reopen":
                keys = set()
            if isinstance(payload, dict) and payload.get("event"):
                keys.add(payload["event"])
        seen.append(keys)
        # Read under the case's lock: the history entry this event writes next follows it.
        case.__dict__[LAST_SEQ_HINT] = last
    return any(_names(key, rule.stop) for key in seen[0])


def start_clock(case, rule: ClockRule, at: datetime):
    clock = new_clock(case, rule, at)
    clock.save()
    return clock


def new_clock(case, rule: ClockRule, at: datetime, *, weekly=None):
    """A clock for ``rule`` started at ``at``, not yet saved (``weekly``: a weekly batch's
    weekday and time, which give the due instant)."""
    from xinfang.cases.models import Clock

    if weekly is not None:
        due = weekly_due(at, weekly)
    else:
        due = compute_due(at, rule.amount, rule.unit, calendar=working_calendar(),
                          roll=rule.roll)
    return Clock(
        case=case, name=rule.name, label=rule.label, amount=rule.amount, unit=rule.unit,
        roll=rule.roll, kind=rule.kind, started_at=at, due_at=due.due, provisional=due.provisional,
        explanation=due.steps, alert_roles=list(rule.alert), due_soon_hours=rule.due_soon_hours,
        seed=rule.seed[:40],  # the column's width; the full text stays in the profile
    )


# A case that leaves the workflow (declined, or merged into another) owes nothing more: every
# clock still running stops with it, whether or not its rule lists the event — else a declined
# first petition's contact clock (jianan) or proposal clock (datonghu) would run late forever.
ENDING_EVENTS = ("declined", "merged")
# Closing (销号) and archiving end every deadline too; windows run on (the 30 days to ask for a
# review start at delivery and outlive the closing).
CLOSING_EVENTS = ("closed", "archived")


def due_changed(case_ids) -> None:
    """The clocks of these cases started, stopped or moved outside ``apply_event`` (a calendar
    load, the sweep's follow-up clocks): recompute their ``Case.next_due_at`` in one statement."""
    from xinfang.cases.models import Case
    from xinfang.cases.services.due import next_due_subquery

    if case_ids:
        Case.objects.filter(pk__in=list(case_ids)).update(next_due_at=next_due_subquery())


@consumes("extension.amount", "extension.unit", by="xinfang.rules.engine.extended_due")
def extended_due(due_at: datetime, profile: Profile, extend_to: date | None):
    """An approved extension: to 24:00 of the day requested, never beyond the profile's
    ``extension`` amount counted from the current deadline (nor before the current deadline).
    Without a requested day, the full amount."""
    ext = profile.extension
    cap = compute_due(_last_day(due_at), ext.amount, ext.unit, calendar=working_calendar())
    if extend_to is None:
        return cap
    asked = datetime.combine(extend_to + timedelta(days=1), time(), tzinfo=SHANGHAI)
    if asked == cap.due:
        return cap
    if asked > cap.due:
        return Due(cap.due, cap.provisional,
                   [*cap.steps, f"申请延期至{extend_to:%Y-%m-%d}，超过本地规则上限，按上限计"])
    if asked <= due_at:
        return Due(due_at, False, [f"申请延期至{extend_to:%Y-%m-%d}，不晚于原期限，期限不变"])
    return Due(asked, False, [f"批准延期至申请的{extend_to:%Y-%m-%d} 24时"])


def _stop(clock, at: datetime) -> None:
    clock.status = clock.Status.STOPPED
    clock.stopped_at = at
    clock.met = at <= clock.due_at
    clock.save(update_fields=["status", "stopped_at", "met"])


def _stop_all(clocks: list, at: datetime) -> None:
    """Stop several clocks at one instant with one statement (each is met if due at or after
    ``at``)."""
    if not clocks:
        return
    if len(clocks) == 1:
        _stop(clocks[0], at)
        return
    from django.db.models import BooleanField, ExpressionWrapper, Q

    from xinfang.cases.models import Clock

    Clock.objects.filter(pk__in=[c.pk for c in clocks]).update(
        status=Clock.Status.STOPPED, stopped_at=at,
        met=ExpressionWrapper(Q(due_at__gte=at), output_field=BooleanField()),
    )
    for clock in clocks:
        clock.status, clock.stopped_at, clock.met = Clock.Status.STOPPED, at, at <= clock.due_at


def heard(profile: Profile, event_key: str) -> bool:
    """Whether ``apply_event`` may move any clock on ``event_key``: an ending or closing event,
    or one a clock rule of the profile names (to start, stop, pause, resume or extend it)."""
    if event_key in ENDING_EVENTS or event_key in CLOSING_EVENTS:
        return True
    # Kept on the profile per event, as its clock rules are: a hundred tests a transition.
    known = profile.__dict__.setdefault(_HEARD, {})
    found = known.get(event_key)
    if found is None:
        found = known[event_key] = any(
            _names(event_key, keys) for rule in clock_rules(profile)
            for keys in (rule.start, rule.stop, rule.pauses_on, rule.resumes_on,
                         rule.extends_on, rule.restarts_on))
    return found


_HEARD = "_xf_heard"


def apply_event(case, profile: Profile, event_key: str, at: datetime, facts: dict, *,
                new_case: bool = False, extend_to: date | None = None,
                started: list | None = None) -> list[dict]:
    """Returns what changed, for the history entry. ``new_case``: the case is new, so it has no
    clocks and no history to read; when it is not yet written either (a registration, which
    then inserts it with its next due instant), the clocks started are built and left in
    ``started`` for the caller to write after the case. ``extend_to``: the day an approved
    extension was asked for (the clocks it extends end at 24:00 of that day, capped by the
    profile). ``started``: a list the clocks started here are added to, as written."""
    from xinfang.cases.models import Clock
    from xinfang.cases.services.due import case_refresh_due

    if case.pk is None and (not new_case or started is None):
        raise ValueError("an unwritten case takes new_case and a list for its started clocks")
    if not new_case and not heard(profile, event_key):
        # No rule names this event and it ends nothing: the loop below would change no clock,
        # so the case's clocks are not read (a proposal, a contact in most profiles: one
        # statement fewer for the transition).
        return []
    if new_case:
        from xinfang.cases.services.base import LAST_SEQ_HINT

        live: dict = {}
        seen: list[set[str]] = [set()]
        case.__dict__[LAST_SEQ_HINT] = (0, "")
    else:
        live = {c.name: c for c in case.clocks.exclude(status=Clock.Status.STOPPED)}
        seen = []  # the case's past event keys, read once and only if needed
    changes: list[dict] = []
    weekly = weekly_rules(profile)
    # Stops and starts are written together at the end, one statement each; ``changes`` keeps
    # the order in which the rules named them.
    stopping: list = []
    starting: list = []
    if event_key in ENDING_EVENTS:
        _stop_all(list(live.values()), at)
        for name, clock in live.items():
            changes.append({"clock": name, "stopped": at.isoformat(), "met": clock.met})
        if changes:
            case_refresh_due(case, clocks=live.values())
        return changes
    if event_key in CLOSING_EVENTS:
        for name, clock in list(live.items()):
            if clock.kind == "deadline":
                stopping.append(clock)
                changes.append({"clock": name, "stopped": at.isoformat(),
                                "met": at <= clock.due_at})
                del live[name]
    for rule in clock_rules(profile):
        clock = live.get(rule.name)
        if _names(event_key, rule.restarts_on):
            _restart(case, rule, clock, at, facts, live, stopping, starting, changes)
            continue
        if clock and _names(event_key, rule.stop):
            stopping.append(clock)
            changes.append({"clock": rule.name, "stopped": at.isoformat(),
                            "met": at <= clock.due_at})
            clock = None
        elif clock and clock.status == Clock.Status.RUNNING and _names(event_key, rule.pauses_on):
            clock.status, clock.paused_at = Clock.Status.PAUSED, at
            clock.save(update_fields=["status", "paused_at"])
            changes.append({"clock": rule.name, "paused": at.isoformat()})
        elif clock and clock.status == Clock.Status.PAUSED and _names(event_key, rule.resumes_on):
            # The time spent waiting (for an extension decision) is given back to the clock.
            paused = at - clock.paused_at
            moved = move_due(clock, clock.due_at + paused)
            clock.paused_seconds += int(paused.total_seconds())
            clock.status, clock.paused_at = Clock.Status.RUNNING, None
            clock.save(update_fields=["status", "paused_at", "paused_seconds", *moved])
            changes.append({"clock": rule.name, "resumed": at.isoformat(),
                            "due": clock.due_at.isoformat()})
        if clock and _names(event_key, rule.extends_on):
            due = extended_due(clock.due_at, profile, extend_to)
            moved = move_due(clock, due.due)
            clock.provisional = clock.provisional or due.provisional
            clock.extensions += 1
            clock.explanation = [*clock.explanation, *due.steps]
            clock.save(update_fields=["provisional", "extensions", "explanation", *moved])
            changes.append({"clock": rule.name, "extended_to": clock.due_at.isoformat()})
        if clock is None:
            if (
                _names(event_key, rule.start)
                and rule.when.matches(facts)
                and not _already_stopped(case, rule, seen)
            ):
                new = new_clock(case, rule, at, weekly=weekly.get(rule.name))
                starting.append(new)
                live[rule.name] = new
                changes.append({"clock": rule.name, "started": at.isoformat(),
                                "due": new.due_at.isoformat(), "provisional": new.provisional})
    _stop_all(stopping, at)
    if starting:
        from xinfang.cases.models import Clock

        if case.pk is not None:
            Clock.objects.bulk_create(starting)
        if started is not None:
            started.extend(starting)
    if changes:
        # The case's next due instant follows its clocks (what the lists sort and filter on).
        case_refresh_due(case, clocks=live.values())
    return changes


def _restart(case, rule: ClockRule, clock, at: datetime, facts: dict, live: dict,
             stopping: list, starting: list, changes: list) -> None:
    """``rule``'s clock started afresh at ``at`` (its ``restarts_on``): the one running is
    stopped, and a new one starts whether or not the duty was done before — a reassignment owes
    the new unit's own sign-for, not the old unit's. The history before does not count (unlike
    ``_already_stopped`` for a plain start).

    The stopped clock is late if its deadline had passed; otherwise it is left unjudged
    (``met`` None): the old unit neither did the duty in time nor ran late, and a "met" would
    count a sign-for nobody made."""
    if clock is not None:
        if at > clock.due_at:
            stopping.append(clock)
        else:
            clock.status, clock.stopped_at, clock.met = clock.Status.STOPPED, at, None
            clock.save(update_fields=["status", "stopped_at", "met"])
        changes.append({"clock": rule.name, "stopped": at.isoformat(),
                        "met": False if at > clock.due_at else None, "restarted": True})
        del live[rule.name]
    if rule.when.matches(facts):
        new = new_clock(case, rule, at)
        starting.append(new)
        live[rule.name] = new
        changes.append({"clock": rule.name, "started": at.isoformat(),
                        "due": new.due_at.isoformat(), "provisional": new.provisional,
                        "restarted": True})


def reextended(clock, profile: Profile, due: Due) -> tuple[datetime, bool, list[str]]:
    """A recomputed deadline ``due`` with what the clock was given since it started: each
    approved extension again, to the day it asked for (capped as at its approval), and the
    time it spent paused. Returns the deadline, whether provisional, its explanation."""
    new_due, provisional, steps = due.due, due.provisional, list(due.steps)
    if clock.extensions:
        from xinfang.cases.models import Extension

        asked = list(Extension.objects.filter(case_id=clock.case_id, approved=True)
                     .order_by("decided_at", "pk").values_list("expected_completion", flat=True))
        for n in range(clock.extensions):
            more = extended_due(new_due, profile, asked[n] if n < len(asked) else None)
            new_due, provisional = more.due, provisional or more.provisional
            steps += more.steps
    return new_due + timedelta(seconds=clock.paused_seconds), provisional, steps


def recompute_provisional() -> list[tuple[object, datetime, datetime]]:
    """After a calendar year is loaded: recompute every unstopped provisional clock from its start
    (re-applying its approved extensions). Returns (clock, old due, new due) for the history."""
    from xinfang.cases.models import Clock

    from .store import profile_of

    changed = []
    clocks = Clock.objects.filter(provisional=True).exclude(status=Clock.Status.STOPPED)
    for clock in clocks.select_related("case__profile"):
        calendar = working_calendar()
        profile = profile_of(clock.case.profile)
        due = base_due(profile, clock.name, clock.started_at, clock.amount, clock.unit,
                       clock.roll, calendar)
        new_due, provisional, steps = reextended(clock, profile, due)
        old_due = clock.due_at
        moved = move_due(clock, new_due)
        clock.provisional, clock.explanation = provisional, steps
        clock.save(update_fields=["provisional", "explanation", *moved])
        changed.append((clock, old_due, new_due))
    if changed:
        due_changed({clock.case_id for clock, _old, _new in changed})
    return changed
