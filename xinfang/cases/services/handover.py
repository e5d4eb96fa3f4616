"""工作移交: a petition office moves all the open work of one unit to another (乡镇撤并: a township
merged into its neighbour), each case through the same ``reassign`` transition — one history
entry each, the same checks, the same clocks — so that the unit holds nothing and can be
switched off (``web.admin_services.unit_open_work``).

Each case is reassigned in its own transaction: a case that cannot move is refused by number and
why, and what moved stays moved. A retry finds only what has not moved (the unit's active
assignments): nothing moves twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from xinfang.org.models import Membership, Unit

from .. import choices as c
from ..errors import Refused, StaleCase
from ..models import Assignment, Case
from ..selectors import cases_for
from ..workflow import TRANSITIONS
from .base import is_office_at, unit_jurisdiction
from .transitions import perform


@dataclass
class HandOver:
    moved: list[str] = field(default_factory=list)  # case numbers
    refused: list[tuple[str, str]] = field(default_factory=list)  # (case number, why)
    elsewhere: int = 0  # open cases of the unit another office assigned: theirs to move
    backlog: int = 0  # backlog lines with no case in the unit's care, moved to the receiver

    def summary(self) -> str:
        parts = [f"已改派{len(self.moved)}件"]
        if self.refused:
            parts.append(f"未能改派{len(self.refused)}件")
        if self.backlog:
            parts.append(f"另移交积案台账{self.backlog}条")
        if self.elsewhere:
            parts.append(f"另有{self.elsewhere}件由其他受理机关交办，须由其改派")
        return "，".join(parts) + "。"


def unit_open_cases(*, by: Membership, unit: Unit):
    """The open cases ``unit`` handles (lead or assisting) that ``by`` sees, oldest first."""
    held = Assignment.objects.filter(unit=unit, status=c.AssignmentStatus.ACTIVE).values("case")
    return (cases_for(by).filter(pk__in=held, state__in=c.OPEN_STATES)
            .order_by("received_at", "pk"))


def unit_hand_over(*, by: Membership, old: Unit, new: Unit, reason: str,
                   receiver_name: str, progress=None) -> HandOver:
    """Reassign every open case ``old`` handles, of the offices ``by`` acts for, to ``new``:
    where ``old`` leads, ``new`` leads (its assisting units stay); where ``old`` assists,
    ``new`` assists (or nothing, if ``new`` leads the case already). ``progress(done, total)``
    is told after each case (the background job's bar, ``jobs.kinds.handover``)."""
    home = unit_jurisdiction(by.unit)
    if (by.role not in TRANSITIONS["reassign"].roles or home is None
            or not is_office_at(by.unit, home)):
        raise Refused("工作移交由受理机关的经办人或分管领导办理。")
    if old.pk == new.pk:
        raise Refused("移交单位与接收单位相同。", field="new")
    if not new.is_active:
        raise Refused(f"{new}已停用，不能接收移交的工作。", field="new")
    if not (reason or "").strip():
        raise Refused("请填写移交理由。", field="reason")
    if not (receiver_name or "").strip():
        raise Refused("请填写接收人。", field="receiver_name")
    out = HandOver()
    mine = list(unit_open_cases(by=by, unit=old).values_list("pk", "number"))
    everyone = (Assignment.objects.filter(unit=old, status=c.AssignmentStatus.ACTIVE,
                                          case__state__in=c.OPEN_STATES)
                .values("case").distinct().count())
    out.elsewhere = everyone - len(mine)
    for done, (pk, number) in enumerate(mine):
        if progress is not None:
            progress(done, len(mine))
        for attempt in (1, 2):
            try:
                moved = _move(pk, by=by, old=old, new=new, reason=reason,
                              receiver_name=receiver_name)
            except StaleCase as e:  # changed since read: read it again, once
                if attempt == 2:
                    out.refused.append((number, e.message))
                continue
            except Refused as e:
                out.refused.append((number, e.message))
            else:
                if moved:  # else moved meanwhile (another hand-over at the same moment)
                    out.moved.append(number)
            break
    out.backlog = _move_backlog_lines(by=by, home=home, old=old, new=new, reason=reason)
    if progress is not None:
        progress(len(mine), len(mine))
    return out


@transaction.atomic
def _move_backlog_lines(*, by: Membership, home: Unit, old: Unit, new: Unit,
                        reason: str) -> int:
    """The office's unresolved backlog lines (积案台账) still in ``old``'s care once its cases
    moved, given to ``new``: a line with no case (imported), or whose case ``old`` no longer
    handles (not yet assigned, say). A line whose case moved went with it (``reassign``); one
    whose case could not move stays with that case. Audited, as an edit of the register is."""
    from xinfang.audit.services import REGISTER_CHANGE, audit_record
    from xinfang.registers.models import BacklogCase

    held = Assignment.objects.filter(unit=old, status=c.AssignmentStatus.ACTIVE).values("case")
    lines = BacklogCase.objects.select_for_update().filter(
        jurisdiction=home, resolved_at__isnull=True, responsible_unit=old
    ).exclude(case__in=held)
    ids = list(lines.values_list("pk", flat=True))
    if not ids:
        return 0
    BacklogCase.objects.filter(pk__in=ids).update(responsible_unit=new)
    audit_record(action=REGISTER_CHANGE, actor=by, object_type="backlog", object_id=ids[0],
                 detail={"change": "handover", "lines": ids, "from": old.name, "to": new.name,
                         "reason": reason})
    return len(ids)


def unit_open_count(*, by: Membership, unit: Unit) -> int:
    """How many open cases ``unit_hand_over`` would try to move (the page's choice between
    moving them while the person waits and a background job)."""
    return unit_open_cases(by=by, unit=unit).count()


def _move(pk: int, *, by: Membership, old: Unit, new: Unit, reason: str,
          receiver_name: str) -> bool:
    """Reassign case ``pk`` from ``old`` to ``new`` as its assignments stand at its version
    read here (``perform`` refuses it as stale if it moved since); False: ``old`` no longer
    handles it."""
    version = Case.objects.filter(pk=pk).values_list("version", flat=True).get()
    held = list(Assignment.objects.filter(case_id=pk, status=c.AssignmentStatus.ACTIVE)
                .select_related("unit").order_by("assigned_at", "pk"))
    if not any(a.unit_id == old.pk for a in held):
        return False
    lead = next((a.unit for a in held if a.role == c.AssignmentRole.LEAD), None)
    assisting = [a.unit for a in held if a.role == c.AssignmentRole.ASSIST]
    if lead is None:
        raise Refused("本件没有主办单位，请在案件页面改派。")
    if lead.pk == old.pk:
        lead = new
    assisting = [new if u.pk == old.pk else u for u in assisting]
    assisting = [u for i, u in enumerate(assisting)
                 if u.pk != lead.pk and u.pk not in {v.pk for v in assisting[:i]}]
    perform("reassign", case=pk, by=by, expected_version=version, lead=lead,
            assisting=assisting, reason=reason, receiver_name=receiver_name)
    return True


def unit_named(*, by: Membership, ref: str, field: str) -> Unit:
    """The unit of ``by``'s jurisdiction named ``ref`` (its name, or its id): a misspelt name is
    told the names it may have meant; a name two units share asks for the id."""
    from difflib import get_close_matches

    home = unit_jurisdiction(by.unit)
    if home is None:
        raise Refused("您的任职不在受理机关，不能移交工作。", field=field)
    ref = (ref or "").strip()
    units = Unit.objects.filter(path__under=home.path)
    found = list(units.filter(pk=int(ref))) if ref.isascii() and ref.isdigit() else []
    found = found or list(units.filter(name=ref).order_by("path"))
    if len(found) == 1:
        return found[0]
    if found:
        ids = "、".join(f"{u.pk}（{u.parent}）" for u in found)
        raise Refused(f"有{len(found)}个单位名为“{ref}”，请改填单位编号：{ids}。", field=field)
    near = get_close_matches(ref, list(units.values_list("name", flat=True)), n=3, cutoff=0.5)
    hint = f"是否是：{'、'.join(near)}？" if near else ""
    raise Refused(f"{home}辖区内没有名为“{ref}”的单位。{hint}", field=field)
