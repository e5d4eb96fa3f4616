"""The one function that executes a row of the workflow table."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from xinfang.documents.hooks import after_transition as documents_after_transition
from xinfang.notify.services import notify_transition
from xinfang.org.models import Membership
from xinfang.rules.engine import apply_event

from .. import probes
from ..bulk import update_where
from ..choices import State, label_of
from ..errors import Refused, StaleCase
from ..facts import case_facts
from ..models import Case
from ..selectors import case_through
from ..workflow import TRANSITIONS
from . import effects
from .base import (
    DEFER_DUE,
    Access,
    Ctx,
    append_event,
    check_actor,
    now,
    profile_for,
)
from .preconditions import precondition_refusal


def perform(
    name: str,
    *,
    case: Case | int,
    by: Membership | None,
    expected_version: int | None = None,
    at: datetime | None = None,
    **params,
) -> Case:
    """Lock the case, check the table, run the effect, write history, move the clocks.

    ``expected_version`` is the version the user's form was built from; if the case has moved on
    since, the action is refused rather than applied on top of changes the user has not seen.
    """
    t = TRANSITIONS[name]
    at = at or now()
    # A case ``lock_case`` read in the caller's transaction is acted on as read (the caller's
    # transaction is this one: no savepoint, no second read).
    held = isinstance(case, Case) and case.__dict__.pop(LOCKED, None) is not None
    if held and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("perform: a case from lock_case must be acted on in its transaction")
    with transaction.atomic(savepoint=not held):
        pk = case.pk if isinstance(case, Case) else case
        locked = case if held else lock_case(pk, by=by)
        locked.__dict__.pop(LOCKED, None)
        if expected_version is not None and locked.version != expected_version:
            raise StaleCase("本件已被他人修改（版本已更新），请刷新页面查看最新情况后再操作。")
        if locked.state not in t.sources:
            raise Refused(wrong_state(locked.state, t))
        access = None
        if by is None:
            if name not in effects.PETITIONER_ACTIONS:
                raise Refused("该操作须由工作人员办理。")
        else:
            access = Access(locked, by, respondent=getattr(locked, "xf_respondent", None),
                            recused=getattr(locked, "xf_recused", None))
            check_actor(t, locked, by, access)
        # Good under this lock only: the case handed back must not answer later checks with them.
        locked.__dict__.pop("xf_respondent", None)
        locked.__dict__.pop("xf_recused", None)
        why = precondition_refusal(name, locked, by, access)
        if why:
            raise Refused(why)
        ctx = Ctx(
            case=locked, by=by, now=at, profile=profile_for(locked), event_key=t.event,
            access=access,
        )
        getattr(effects, name)(ctx, **params)
        before = locked.state
        after = ctx.target or t.target or before
        locked.state = after
        # The clocks move first; the case's next due instant they yield is written by the version
        # UPDATE below, with the state and the fields the effect set (one statement, not two).
        facts = case_facts(locked)
        clock_changes = []
        due_before = locked.next_due_at
        locked.__dict__[DEFER_DUE] = True
        try:
            for key in [ctx.event_key, *ctx.extra_events]:
                clock_changes += apply_event(locked, ctx.profile, key, ctx.event_at or at, facts,
                                             extend_to=ctx.extend_to)
        finally:
            locked.__dict__.pop(DEFER_DUE, None)
        changed = ctx.changed_fields()
        if locked.next_due_at != due_before:
            changed["next_due_at"] = locked.next_due_at
        # Conditional on the version read under the lock: the last line of defence on
        # databases where select_for_update is a no-op (a refusal rolls the clocks back too).
        updated = update_where(Case, {"pk": locked.pk, "version": locked.version},
                               {"state": after, "version": locked.version + 1, **changed})
        if not updated:
            raise StaleCase("本件已被他人修改，请刷新后再操作。")
        locked.version += 1
        ctx.payload["event"] = ctx.event_key
        if ctx.event_at is not None and ctx.event_at != at:
            # When the clocks heard it: a profile migration replays the history from these.
            ctx.payload["event_at"] = ctx.event_at.isoformat()
        if clock_changes:
            ctx.payload["clocks"] = clock_changes
        event = append_event(
            case=locked,
            type=name,
            by=by,
            at=at,
            from_state=before,
            to_state=after,
            payload=ctx.payload,
        )
        notify_transition(case=locked, name=name, event=event, at=at, params=params)  # inbox+outbox
        documents_after_transition(name, case=locked, by=by, at=at, params=params)
        return locked


LOCKED = "_xf_locked"


def wrong_state(state: str, t) -> str:
    """The refusal of transition ``t`` from ``state`` (the label read from a map made once)."""
    return f"本件当前状态为“{label_of(State, state)}”，不能“{t.label}”。"


def lock_case(pk: int, *, by: Membership | None, scope=None) -> Case:
    """Read case ``pk`` for a transition and lock its row (only the case row: not its profile or
    jurisdiction, which every case of the office shares). The same statement reads whether the
    actor is on the respondent side and whether the user has declared any recusal, so the action
    door costs no further query. ``scope``: a queryset the case must be in (the permission door,
    ``cases_for(by, one=True)``) — raises ``Case.DoesNotExist`` outside it.

    Inside a transaction, the case may be handed to ``perform`` in the same transaction, which
    then acts on it without reading it again (an API call: the door, the actor check and the
    input's validation come before the effect, all under the one lock)."""
    qs = Case.objects.all() if scope is None else scope
    if by is None:
        locked = _locking(qs)
    else:
        locked = _locking(qs, tuple(by.unit.path_ids), by.user_id)
    case = locked.get(pk=pk)
    if transaction.get_connection().in_atomic_block:
        case.__dict__[LOCKED] = True
    return case


def lock_case_through(pk: int, *, by: Membership) -> Case:
    """``lock_case`` through ``by``'s door (``cases_for(by, one=True)``), its statement
    compiled once per door (``cases.selectors.case_through``), not for every transition: the
    same row, locked, with the same two annotations. Inside the caller's transaction."""
    case = case_through(by, pk, _as_a_transition_locks)
    case.__dict__[LOCKED] = True
    return case


def _as_a_transition_locks(qs, door):
    # the door's membership's own read: its unit's path is the door's ``inside``
    return _locking(qs, door.inside, door.user_id)


def _locking(qs, inside: tuple[int, ...] | None = None, user_id: int | None = None):
    """``qs`` read for a transition: the case row locked, its profile and jurisdiction joined;
    with the actor's units (``inside``, from the root) and user, whether they are on the
    respondent side (``respondent_filter`` as one SQL text) and whether the user declared any
    recusal."""
    qs = qs.select_for_update(of=("self",)).select_related("profile", "jurisdiction")
    if inside is None:
        return qs
    return qs.annotate(xf_respondent=probes.accused(inside, user_id),
                       xf_recused=probes.any_recusal(user_id))


def refusal(
    name: str, *, case: Case, by: Membership | None, access: Access | None = None
) -> str | None:
    """Why ``by`` may not take transition ``name`` on ``case`` now (state, role, scope), or None.
    What the transition's own inputs need is checked when it is performed. ``access`` carries
    what an earlier check of the same membership and case already read."""
    t = TRANSITIONS[name]
    if case.state not in t.sources:
        return wrong_state(case.state, t)
    if by is None:
        return None if name in effects.PETITIONER_ACTIONS else "该操作须由工作人员办理。"
    access = access or Access(case, by)
    try:
        check_actor(t, case, by, access)
    except Refused as e:
        return e.message
    return precondition_refusal(name, case, by, access)


def available(*, case: Case, by: Membership) -> list[str]:
    """The transitions this membership may take on this case now, in table order. The unit
    tree, the respondents and the recusals are read once for the whole table."""
    access = Access(case, by)
    return [n for n in TRANSITIONS if refusal(n, case=case, by=by, access=access) is None]


def actor_refusal(name: str, *, case: Case, by: Membership) -> str | None:
    """Why ``by`` may never take ``name`` on ``case`` (role, unit, respondent, recusal) —
    whatever the case's state; None when the membership may, in principle. The API answers 403
    for these and 422 for the rest."""
    # A case read with the ``xf_respondent`` annotation (a transition's locked read, ``_locking``)
    # says already whether the actor is on the respondent side: no second query for it.
    access = Access(case, by, respondent=getattr(case, "xf_respondent", None))
    try:
        check_actor(TRANSITIONS[name], case, by, access)
    except Refused as e:
        return e.message
    return None
