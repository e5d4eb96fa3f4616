"""转 — 改派 (重新交办): a case assigned to the wrong unit, or to a township about to be merged,
given to another unit while a unit holds it — being handled, or past handling with its reply
under way (the case then keeps its stage: the new unit takes over what remains).

The old assignments are ended, never deleted: their rows stay, marked transferred (已移交, as a
transfer to the discipline commission marks them), so the permission door (``HANDLED``), the
ledger's 承办单位, the rates and the registers leave them out at once; the history entry says who,
when, why, from which units to which. The new ones are made as ``assign`` makes them, through
the same routing checks. Which clocks start again is the profile's to say (``restarts_on:
[reassigned]``); the statutory limits counted from acceptance run on.
"""

from __future__ import annotations

from django.db.models import Q

from xinfang.org.choices import UnitKind
from xinfang.org.models import Unit

from .. import choices as c
from ..errors import Refused
from ..models import Assignment, Extension
from .base import Ctx, Invalid
from .routing import check_assignable_now

# The lead stays and only the assisting units change: the lead's own clocks (its sign-for) do
# not hear it (a ``reassigned`` rule hears this key only if it names it: not a family).
ASSIST_ONLY = "reassigned:assist"
# The case is past handling (its letter drafted, approved, issued or delivered): the new unit
# takes over what remains of the reply at the stage it stands; nothing is to be signed for or
# contacted again, so no clock hears it (a township merged while its reply is under way).
AFTER_HANDLING = "reassigned:after"
HANDLING = frozenset({c.State.ASSIGNED, c.State.IN_PROGRESS, c.State.EXTENSION_REQUESTED})


def reassign(
    ctx: Ctx,
    *,
    lead: Unit,
    reason: str,
    receiver_name: str,
    assisting: list[Unit] | None = None,
    responsible_person: str = "",
) -> None:
    """``lead``: the unit that leads from now on; ``assisting``: the assisting units from now on
    (None: those assisting now, less the new lead). A unit that keeps its role keeps its
    assignment (and its signing for); every other active assignment is ended and each new
    (unit, role) assigned as ``assign`` assigns it."""
    from .effects import _registrar_assigns, _required

    _required(lead=lead, reason=reason.strip() if reason else reason,
              receiver_name=receiver_name.strip() if receiver_name else receiver_name)
    _registrar_assigns(ctx)
    active = list(ctx.case.assignments.filter(status=c.AssignmentStatus.ACTIVE)
                  .select_related("unit").order_by("assigned_at", "pk"))
    if assisting is None:
        assisting = [a.unit for a in active
                     if a.role == c.AssignmentRole.ASSIST and a.unit_id != lead.pk]
    if len({u.pk for u in assisting}) != len(assisting):
        raise Invalid({"assisting": "协办单位重复"})
    if lead in assisting:
        raise Refused("主办单位不能同时是协办单位。", field="assisting")
    if ctx.case.transferred_to_discipline and lead.kind != UnitKind.DISCIPLINE:
        # Misconduct material never goes back to a unit that is not a discipline body.
        raise Refused("本件已移送纪检监察机关，只能改派给纪检监察机关。", field="lead")
    wanted = {(lead.pk, c.AssignmentRole.LEAD), *((u.pk, c.AssignmentRole.ASSIST)
                                                 for u in assisting)}
    held = {(a.unit_id, a.role) for a in active}
    if wanted == held:
        raise Refused(f"本件已由{lead}主办，承办单位没有变化，无需改派。", field="lead")
    ending = [a for a in active if (a.unit_id, a.role) not in held & wanted]
    by_pk = {lead.pk: lead, **{u.pk: u for u in assisting}}
    new = [(by_pk[pk], role) for pk, role in wanted - held]
    new.sort(key=lambda pair: (pair[1] != c.AssignmentRole.LEAD, pair[0].path))
    # The same checks as a first assignment, for the units given work now: switched off (named),
    # a respondent unit, outside the jurisdiction, the profile's constraints (no village).
    check_assignable_now(case=ctx.case, units=[u for u, _role in new], profile=ctx.profile)
    Assignment.objects.filter(pk__in=[a.pk for a in ending]).update(
        status=c.AssignmentStatus.TRANSFERRED)
    Assignment.objects.bulk_create([
        Assignment(case=ctx.case, unit=unit, role=role, assigned_at=ctx.now,
                   assigned_by_id=ctx.by.user_id, receiver_name=receiver_name,
                   responsible_person=responsible_person if role == c.AssignmentRole.LEAD
                   else "")
        for unit, role in new
    ])
    lead_changed = (lead.pk, c.AssignmentRole.LEAD) not in held
    ctx.payload.update(
        reason=reason, lead=lead.name, assisting=[u.name for u in assisting],
        receiver=receiver_name, responsible_person=responsible_person,
        ended=[{"unit": a.unit.name, "unit_id": a.unit_id, "role": a.role,
                "assigned_at": a.assigned_at.isoformat(),
                "signed_for_at": a.signed_for_at.isoformat() if a.signed_for_at else None}
               for a in ending],
        given=[{"unit": u.name, "unit_id": u.pk, "role": role} for u, role in new],
    )
    if ctx.case.state not in HANDLING:
        ctx.event_key = AFTER_HANDLING
        ctx.payload["stage_kept"] = True
    elif lead_changed:
        # The new lead signs for the case before handling it (``sign_for`` moves it on again);
        # when the case was accepted stays as it was, so the limits counted from it run on.
        ctx.target = c.State.ASSIGNED
        if ctx.case.state == c.State.EXTENSION_REQUESTED:
            # the old unit's request awaits the approver: it lapses with its unit's work
            Extension.objects.filter(case=ctx.case, approved__isnull=True).update(
                approved=False, decided_at=ctx.now, decided_by_id=ctx.by.user_id,
                decision_note=f"本件已改派{lead}办理，原承办单位的延期申请不再审批。")
            ctx.payload["extension_withdrawn"] = True
    else:
        ctx.event_key = ASSIST_ONLY
    if lead_changed:
        _move_backlog_line(ctx, {a.unit_id for a in ending if a.role == c.AssignmentRole.LEAD},
                           lead)
    _stop_old_messages(ctx, {a.unit_id for a in ending} - {pk for pk, _r in wanted})


def _move_backlog_line(ctx: Ctx, old_leads: set[int], lead: Unit) -> None:
    """The case's unresolved backlog line (积案台账) in the care of the lead it leaves is the
    new lead's to keep: the register shows a line to its responsible unit, and the old unit
    could not be switched off while it held one (``unit_open_work``). A line an office gave
    another unit's care by hand keeps it."""
    from xinfang.registers.models import BacklogCase

    moved = BacklogCase.objects.filter(case=ctx.case, resolved_at__isnull=True,
                                       responsible_unit_id__in=sorted(old_leads)
                                       ).update(responsible_unit=lead)
    if moved:
        ctx.payload["backlog_moved"] = True


def _stop_old_messages(ctx: Ctx, units: set[int]) -> None:
    """The units that no longer handle the case lose its notices at once: the inbox reads
    through the door, which no longer lets them in; what the outbox has not sent them about
    the case is not sent (marked failed with the reason, for the security administrator's
    list), and what is not yet fanned out never will be."""
    from xinfang.notify.models import Delivery, Notice

    units.discard(ctx.case.jurisdiction_id)
    if not units:
        return
    theirs = Q(case=ctx.case, unit_id__in=sorted(units))
    Notice.objects.filter(theirs, outbox_pending=True).update(outbox_pending=False)
    Delivery.objects.filter(
        status=Delivery.Status.PENDING,
        notice__in=Notice.objects.filter(theirs).values("pk"),
    ).update(status=Delivery.Status.DEAD, last_error="本件已改派，不再向原承办单位发送。")
