"""Writes of leader ownership: the office links a village to its leader; a warning rule that
asks for leader ownership opens the case's items and names the owner the profile chooses; the
owner (or the office's leaders) follows each item up. Every change is kept."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from xinfang.audit.services import audit_record
from xinfang.cases.bulk import insert_rows
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.services.base import append_event, is_office_of
from xinfang.org.choices import Role, UnitKind
from xinfang.org.models import Membership, Unit, User
from xinfang.rules.consumers import consumes

from .models import OwnershipItem, OwnershipItemChange, VillageLeader

OFFICE = {Role.CLERK, Role.APPROVER, Role.CHIEF}
# Who may be linked to a village or own a case: the leaders (分管领导, 主要领导, 片长/线办负责人).
LEADER_ROLES = {Role.APPROVER, Role.CHIEF, Role.LINE_HEAD}
# Who may follow up an item besides the owner: the office's leaders.
SUPERVISORS = {Role.APPROVER, Role.CHIEF}


def _home(unit: Unit) -> Unit | None:
    return unit if unit.profile_code else unit.jurisdiction()


def may_link_villages(by: Membership | None, jurisdiction: Unit | None) -> bool:
    """The petition office of the jurisdiction records its villages' leaders."""
    return bool(by is not None and by.is_active and by.role in OFFICE and jurisdiction is not None
                and is_office_of(by.unit, Case(jurisdiction=jurisdiction)))


def leader_choices(jurisdiction: Unit):
    """The users who hold a leader's role inside ``jurisdiction`` (one query)."""
    return (User.objects.filter(
        memberships__is_active=True, memberships__role__in=LEADER_ROLES,
        memberships__unit__path__under=jurisdiction.path, is_active=True,
    ).distinct().order_by("full_name", "pk"))


@transaction.atomic
def village_leader_set(*, village: Unit, leader: User, by: Membership,
                       at: datetime) -> VillageLeader:
    """Link ``village`` to ``leader`` (联点村的区级领导), ending the link it had."""
    if village.kind != UnitKind.VILLAGE:
        raise Refused(f"{village}不是村（社区）。", field="village")
    home = village.jurisdiction()
    if not may_link_villages(by, home):
        raise Refused("只有本级信访办（经办人、分管领导、主要领导）可以登记联点村领导。",
                      field="village")
    if not leader_choices(home).filter(pk=leader.pk).exists():
        raise Refused(f"{leader.full_name or leader}在{home}没有领导职务，不能联点。",
                      field="leader")
    current = (VillageLeader.objects.select_for_update()
               .filter(village=village, ended_at=None).first())
    if current is not None:
        if current.leader_id == leader.pk:
            return current
        current.ended_at, current.ended_by = at, by.user
        current.save(update_fields=["ended_at", "ended_by"])
    link = VillageLeader.objects.create(village=village, leader=leader, recorded_by=by.user,
                                        recorded_at=at)
    audit_record(action="village_leader_set", actor=by, object_type="org.Unit",
                 object_id=village.pk, at=at,
                 detail={"village": village.name, "leader": leader.full_name or leader.username,
                         "ended": current.leader_id if current else None})
    return link


@transaction.atomic
def village_leader_end(*, village: Unit, by: Membership, at: datetime) -> bool:
    if not may_link_villages(by, village.jurisdiction()):
        raise Refused("只有本级信访办可以撤销联点村领导。", field="village")
    ended = VillageLeader.objects.filter(village=village, ended_at=None).update(
        ended_at=at, ended_by=by.user)
    if ended:
        audit_record(action="village_leader_end", actor=by, object_type="org.Unit",
                     object_id=village.pk, at=at, detail={"village": village.name})
    return bool(ended)


@consumes("warnings.owner_from", by="xinfang.ownership.services.ownership_owner")
def ownership_owner(*, case: Case, rule) -> tuple[User | None, str]:
    """The owner the rule's ``owner_from`` names for ``case``, with why: the leader linked to
    the case's village (seed 000 §十一(四) 联点村的区级领导), or the one active holder of the rule's
    ``owner`` role in the jurisdiction. (None, "") when none is found — the office then names the
    leader with 领导包案."""
    for source in rule.owner_from:
        if source == "village" and case.village_id:
            link = (VillageLeader.objects.filter(village_id=case.village_id, ended_at=None)
                    .select_related("leader").first())
            if link is not None and link.leader.is_active:
                return link.leader, "联点村领导"
        if source == "role" and rule.owner:
            holders = list(User.objects.filter(
                memberships__is_active=True, memberships__role=rule.owner, is_active=True,
                memberships__unit__path__under=case.jurisdiction.path,
            ).distinct()[:2])
            if len(holders) == 1:
                return holders[0], str(Role(rule.owner).label)
    return None, ""


def ownership_open(*, case: Case, rule, at: datetime) -> dict:
    """A warning rule asking for leader ownership applied to ``case``: its items (one per
    ``ownership_items``, once) and, when the case has no owner yet, the owner the profile
    chooses. Returns what happened, for the warning's history entry. Runs inside the caller's
    transaction (registration or the sweep, the case locked)."""
    from xinfang.registers.backlog import on_leader_owner

    OwnershipItem.objects.bulk_create(
        [OwnershipItem(case=case, rule=rule.name, position=i, label=label, created_at=at)
         for i, label in enumerate(rule.ownership_items)],
        ignore_conflicts=True)
    done: dict = {}
    if case.leader_owner_id is None and rule.owner_from:
        leader, why = ownership_owner(case=case, rule=rule)
        if leader is not None and Case.objects.filter(
                pk=case.pk, leader_owner=None).update(leader_owner=leader):
            case.leader_owner = leader
            done = {"owner": leader.full_name or leader.username, "owner_by": why}
            if on_leader_owner(case=case, at=at):
                done["backlog"] = "已列入"
    return done


def may_follow_up(case: Case, by: Membership | None) -> bool:
    """The owning leader, or a leader of the case's own petition office."""
    if by is None or not by.is_active:
        return False
    if case.leader_owner_id is not None and by.user_id == case.leader_owner_id:
        return True
    return by.role in SUPERVISORS and is_office_of(by.unit, case)


@transaction.atomic
def ownership_item_update(*, item: OwnershipItem, status: str, note: str, by: Membership,
                          at: datetime) -> OwnershipItem:
    """Record how one ownership item stands; the change is kept and enters the case's history."""
    from xinfang.cases.selectors import case_for

    try:
        case = case_for(by, item.case_id)
    except Case.DoesNotExist:
        raise Refused("没有这个信访件，或您无权查看。", field="item") from None
    if not may_follow_up(case, by):
        raise Refused("只有包案领导或本级信访办的分管、主要领导可以更新包案事项。", field="item")
    if status not in OwnershipItem.Status.values:
        raise Refused(f"落实情况“{status}”无效。", field="status")
    note = (note or "").strip()
    if status == OwnershipItem.Status.DONE and not note:
        raise Refused("标记已落实时须写明落实情况。", field="note")
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk").first()
    item = OwnershipItem.objects.select_for_update().get(pk=item.pk)
    item.status, item.note, item.updated_by, item.updated_at = status, note, by.user, at
    item.save(update_fields=["status", "note", "updated_by", "updated_at"])
    OwnershipItemChange.objects.create(item=item, status=status, note=note, by=by.user, at=at)
    append_event(case=case, type="ownership_item_updated", by=by, at=at,
                 payload={"item": item.label, "status": str(item.get_status_display()),
                          "note": note})
    return item


class OwnershipBatch:
    """``ownership_open`` for a sweep batch: the items of every case go in one INSERT, the
    village links are read once for the batch and a role's holders once per jurisdiction, and
    the owners are set with one UPDATE per leader. The backlog register is left to the sweep's
    own backlog pass, which runs right after and enters leader-owned repeats."""

    def __init__(self, case_ids: list[int]):
        self.case_ids = case_ids
        self.items: list[tuple] = []  # rows of ``OwnershipItem``
        self.owners: dict[int, list[int]] = {}  # leader id → case ids
        self._links: dict[int, User] | None = None
        self._holders: dict[tuple[int, str], User | None] = {}

    def _village_leader(self, village_id: int) -> User | None:
        if self._links is None:
            villages = Case.objects.filter(pk__in=self.case_ids).values("village_id")
            self._links = {link.village_id: link.leader for link in VillageLeader.objects.filter(
                village_id__in=villages, ended_at=None, leader__is_active=True,
            ).select_related("leader")}
        return self._links.get(village_id)

    def _holder(self, case: Case, role: str) -> User | None:
        key = (case.jurisdiction_id, role)
        if key not in self._holders:
            holders = list(User.objects.filter(
                memberships__is_active=True, memberships__role=role, is_active=True,
                memberships__unit__path__under=case.jurisdiction.path,
            ).distinct()[:2])
            self._holders[key] = holders[0] if len(holders) == 1 else None
        return self._holders[key]

    def open(self, *, case: Case, rule, at: datetime) -> dict:
        self.items += [(case.pk, rule.name, i, label, OwnershipItem.Status.PENDING, "", None, None,
                        at) for i, label in enumerate(rule.ownership_items)]
        if case.leader_owner_id is not None:
            return {}
        for source in rule.owner_from:
            leader, why = None, ""
            if source == "village" and case.village_id:
                leader, why = self._village_leader(case.village_id), "联点村领导"
            elif source == "role" and rule.owner:
                leader, why = self._holder(case, rule.owner), str(Role(rule.owner).label)
            if leader is not None:
                case.leader_owner = leader
                self.owners.setdefault(leader.pk, []).append(case.pk)
                return {"owner": leader.full_name or leader.username, "owner_by": why}
        return {}

    def write(self) -> None:
        insert_rows(OwnershipItem, ("case_id", "rule", "position", "label", "status", "note",
                                    "updated_by_id", "updated_at", "created_at"), self.items,
                    ignore_conflicts=True)
        for leader_id, case_ids in self.owners.items():
            Case.objects.filter(pk__in=case_ids, leader_owner=None).update(
                leader_owner_id=leader_id)
        self.items, self.owners = [], {}
