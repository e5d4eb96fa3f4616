"""Writing notices: the hooks the case services call, and the outbox rows they imply.

Everything here runs inside the caller's transaction, so a notice (flagged for the outbox)
exists if and only if the event that caused it was committed; the deliverer fans it out to the
unit's channels later (``outbox.deliver_pending``). A transition pays one INSERT. Three entry
points:

- ``notify_alerts(alerts)`` — after the sweep inserted ``Alert`` rows (each reaches the unit and
  role the alert names; the sweep may run twice at once: the unique constraints skip repeats);
- ``notify_transition(...)`` — after ``cases.services.transitions.perform`` wrote its event
  (assignment, transfer, rectification requests, rating);
- ``notify_supervision_order(...)`` — after a supervision order (督办单) was issued.
"""

from __future__ import annotations

from datetime import datetime

from xinfang.cases import choices as c
from xinfang.cases.bulk import insert_rows
from xinfang.cases.models import Case, CaseEvent

from .models import Kind, Notice

ALERT_TODO = {
    Kind.DUE_SOON: "请在时限内办结",
    Kind.OVERDUE: "请尽快办结，并说明超期原因",
    Kind.WARNING: "请按预警要求落实调查核实、原因分析和化解方案",
    Kind.ANALYSIS: "请分析原因、制定下一步措施",
}
# What cannot simply be put away: dismissing these (销号) asks for a reason.
NEEDS_REASON = {Kind.OVERDUE, Kind.WARNING, Kind.ANALYSIS, Kind.SUPERVISION_ORDER,
                Kind.RECTIFICATION}
# Transitions that send work back to whoever did it (整改要求). A transition added later whose
# name says so (``request_rectification``…) is counted too.
RECTIFICATION_TRANSITIONS = {"return_proposal", "return_letter"}


def notify_alerts(alerts) -> int:
    """A notice for each alert the sweep has just inserted (``alerts``: the rows it built — model
    instances or the sweep's ``AlertRow``), in one INSERT. A sweep running at the same moment
    that inserted some of them first: the notices' own unique constraints (the alert's key) skip
    the repeats, not fail the batch."""
    rows = []
    for a in alerts:
        if a.unit_id is None:
            continue
        todo = "请落实领导包案" if "领导包案" in a.message else ALERT_TODO.get(a.kind, "")
        rows.append((a.case_id, "", a.kind, a.unit_id, a.role, a.message, todo, a.clock_id, None,
                     a.kind in NEEDS_REASON, a.created_at, True, a.due_at))
    insert_rows(Notice, NOTICE_ROW, rows, ignore_conflicts=True)
    return len(rows)


NOTICE_ROW = ("case_id", "link", "kind", "unit_id", "role", "text", "todo", "clock_id",
              "event_id", "needs_reason", "created_at", "outbox_pending", "due_at")


def _lead_unit_id(case: Case) -> int | None:
    return (case.assignments.filter(role=c.AssignmentRole.LEAD, status=c.AssignmentStatus.ACTIVE)
            .order_by("-assigned_at", "-pk").values_list("unit_id", flat=True).first())


def notify_transition(*, case: Case, name: str, event: CaseEvent, at: datetime,
                      params: dict) -> int:
    """Notices for a transition just performed on ``case`` (its history ``event`` written)."""
    number = case.number
    todo_for: list[tuple[int, str, Kind, str, str, bool]] = []  # unit, role, kind, text, todo
    if name == "assign":  # the units are in hand: no query
        units = [(params["lead"], "主办"), *((u, "协办") for u in params.get("assisting") or [])]
        for unit, what in units:
            todo_for.append((unit.pk, "", Kind.ASSIGNED, f"{number} 已交办{unit.name}（{what}）",
                             "请签收并在时限内办理", False))
    elif name == "reassign":  # the units given work now, as the history entry names them
        for given in (event.payload or {}).get("given", []):
            what = "主办" if given["role"] == c.AssignmentRole.LEAD else "协办"
            todo_for.append((given["unit_id"], "", Kind.ASSIGNED,
                             f"{number} 已改派{given['unit']}（{what}）",
                             "请签收并在时限内办理", False))
    elif name == "transfer_to_discipline" and params.get("unit") is not None:
        unit = params["unit"]
        todo_for.append((unit.pk, "", Kind.ASSIGNED, f"{number} 已移交{unit.name}",
                         "请签收并依规处理", False))
    elif name in RECTIFICATION_TRANSITIONS or "rectif" in name:
        reason = str(params.get("reason") or "")[:120]
        if name == "return_proposal":
            to = [(case.jurisdiction_id, "clerk")]
        else:
            lead = _lead_unit_id(case)
            to = [(lead, "")] if lead else [(case.jurisdiction_id, "clerk")]
        for unit_id, role in to:
            todo_for.append((unit_id, role, Kind.RECTIFICATION,
                             f"{number} 退回整改：{reason}" if reason else f"{number} 退回整改",
                             "请按意见整改后重新报送", True))
    elif name == "record_rating":
        label = c.Rating(case.rating).label if case.rating in c.Rating.values else case.rating
        unhappy = case.rating == c.Rating.UNSATISFIED
        todo = "请研判是否需要复查或再次化解" if unhappy else "知悉"
        to = [(case.jurisdiction_id, "clerk")]
        lead = _lead_unit_id(case)
        if lead and lead != case.jurisdiction_id:
            to.append((lead, ""))
        for unit_id, role in to:
            todo_for.append((unit_id, role, Kind.RATING, f"{number} 信访人评价：{label}", todo,
                             unhappy))
    if not todo_for:
        return 0
    # No clock: the case's next due instant is shown (the message names its clock when sent).
    notices = Notice.objects.bulk_create(
        Notice(case=case, kind=kind, unit_id=unit_id, role=role, text=text[:300], todo=todo,
               event=event, needs_reason=needs, created_at=at)
        for unit_id, role, kind, text, todo, needs in todo_for
        if unit_id is not None
    )
    return len(notices)


def notify_supervision_order(*, case: Case, params: dict, at: datetime) -> int:
    """A supervision order (督办单) reaches the lead unit (else the office's clerks)."""
    lead = _lead_unit_id(case)
    unit_id, role = (lead, "") if lead else (case.jurisdiction_id, "clerk")
    action = str(params.get("required_action") or "")[:150]
    due = str(params.get("due_date") or "")
    Notice.objects.create(
        case=case, kind=Kind.SUPERVISION_ORDER, unit_id=unit_id, role=role,
        text=f"{case.number} 督办：{action}"[:300],
        todo=f"请于{due}前落实并报告办理情况" if due else "请落实并报告办理情况",
        needs_reason=True, created_at=at,
    )
    return 1
