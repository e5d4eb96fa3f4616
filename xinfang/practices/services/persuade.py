"""Persuade-to-return (seed 004 §二(五)): a petitioner reported at a higher office; a group led
by the area chief — the village team, the village's cadres, the line office's cadre, the police
— brings them back; then the follow-up talk (约访、约谈、法制谈话…) "in the first moment". Each
step is a line in the case's history; a follow-up not done in time is flagged by the sweep."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from xinfang.org.models import Membership
from xinfang.rules.profile.schema import PERSUADE_MEMBERS

from ..models import PersuadeReturn
from ..rules import persuade_rule, practices_of
from ..selectors import persuades_for
from .base import Invalid, Refused, audit, case_event, case_locked, keeper, required

MEMBER_LABELS = {
    "area_chief": "片长",
    "area_team": "联村工作组",
    "village_cadre": "村干部",
    "line_office": "事权线办干部",
    "police": "派出所民警",
}
assert set(MEMBER_LABELS) == set(PERSUADE_MEMBERS)


@transaction.atomic
def persuade_form(
    *,
    by: Membership,
    case_id,
    level: str,
    place: str,
    reported_at: datetime | None,
    members: list[dict],
    now: datetime | None = None,
) -> PersuadeReturn:
    access = keeper(by, office=True)
    now = now or timezone.now()
    required(level=level, place=place, reported_at=reported_at)
    if level not in PersuadeReturn.Level.values:
        raise Invalid({"level": f"上访层级“{level}”无效"})
    clean = []
    for i, m in enumerate(members or []):
        role, name = (m.get("role") or "").strip(), (m.get("name") or "").strip()
        if not role and not name:
            continue
        if role not in MEMBER_LABELS or not name:
            raise Invalid({f"members[{i}]": "每位成员须有身份和姓名"})
        clean.append({"role": role, "name": name[:50]})
    group, _ = persuade_rule(practices_of(access.home), now)
    missing = [MEMBER_LABELS[r] for r in group if r not in {m["role"] for m in clean}]
    if missing:
        raise Invalid({"members": "劝返组还缺：" + "、".join(missing)})
    if not clean:
        raise Invalid({"members": "请填写劝返组成员"})
    case = case_locked(by, case_id)
    row = PersuadeReturn.objects.create(
        case=case,
        jurisdiction=access.home,
        level=level,
        place=place,
        reported_at=reported_at,
        members=clean,
        formed_by=by.user,
        formed_at=now,
    )
    case_event(
        case,
        by,
        "persuade_formed",
        now,
        {
            "level": row.get_level_display(),
            "place": place,
            "members": "、".join(f"{MEMBER_LABELS[m['role']]}{m['name']}" for m in clean),
        },
    )
    audit(by, "persuade_return", row.pk, {"case": case.number, "level": level})
    return row


@transaction.atomic
def persuade_returned(
    *,
    by: Membership,
    persuade_id,
    returned_at: datetime | None,
    note: str = "",
    now: datetime | None = None,
) -> PersuadeReturn:
    keeper(by, office=True)
    now = now or timezone.now()
    required(returned_at=returned_at)
    row = _row(by, persuade_id)
    if row.returned_at is not None:
        raise Refused("已记录劝返回。", field="returned_at")
    if returned_at > now or returned_at < row.reported_at:
        raise Invalid({"returned_at": "劝返回时间须在接报之后、当前时间之前"})
    case = case_locked(by, row.case_id)
    _, due = persuade_rule(practices_of(row.jurisdiction), returned_at)
    row.returned_at, row.return_note, row.follow_up_due = returned_at, note, due
    row.save(update_fields=["returned_at", "return_note", "follow_up_due"])
    case_event(case, by, "persuade_returned", now, {"at": returned_at.isoformat(), "note": note})
    audit(by, "persuade_return", row.pk, {"returned": returned_at.isoformat()})
    return row


@transaction.atomic
def persuade_follow_up(
    *,
    by: Membership,
    persuade_id,
    kind: str,
    at: datetime | None,
    note: str,
    now: datetime | None = None,
) -> PersuadeReturn:
    keeper(by, office=True)
    now = now or timezone.now()
    required(kind=kind, at=at, note=note)
    if kind not in PersuadeReturn.FollowUp.values:
        raise Invalid({"kind": f"跟进措施“{kind}”无效"})
    row = _row(by, persuade_id)
    if row.returned_at is None:
        raise Refused("须先记录劝返回。", field="kind")
    if row.follow_up_at is not None:
        raise Refused("已记录跟进。", field="kind")
    if at > now:
        raise Invalid({"at": "跟进时间不能晚于当前时间"})
    case = case_locked(by, row.case_id)
    row.follow_up_kind, row.follow_up_at, row.follow_up_note = kind, at, note
    row.save(update_fields=["follow_up_kind", "follow_up_at", "follow_up_note"])
    case_event(
        case,
        by,
        "persuade_followed_up",
        now,
        {"at": at.isoformat(), "text": row.get_follow_up_kind_display(), "note": note},
    )
    audit(by, "persuade_return", row.pk, {"follow_up": kind})
    return row


def _row(by: Membership, pk) -> PersuadeReturn:
    try:
        row = persuades_for(by).select_for_update(of=("self",)).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise Invalid({"persuade": "未找到该劝返记录"})
    return row
