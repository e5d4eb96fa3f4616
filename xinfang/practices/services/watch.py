"""The watch list of key petitioners (seed 001 §二(一) 越级访苗头重点人员; 000 §十(二) 重点信访人的
稳控情况; 003 §二(三) 一人一策): a person taken from a case the office can see, a named owner, a
plan and a stability status, reviewed each period the profile names; a missed review is flagged
in the owner's inbox by the sweep. The entry refers to the petitioner: no name is copied."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases.models import CasePetitioner
from xinfang.org.choices import Role
from xinfang.org.models import Membership
from xinfang.reports.periods import containing

from ..models import WatchEntry, WatchReview
from ..rules import practices_of, watch_review_due
from ..selectors import UNIT_KEEPERS, watch_for
from .base import Invalid, Refused, audit, case_event, case_locked, keeper, required

OWNER_ROLES = {Role.APPROVER, Role.CHIEF, Role.CLERK, *UNIT_KEEPERS}


@transaction.atomic
def watch_add(
    *,
    by: Membership,
    case_id,
    petitioner_id,
    owner_id,
    reason: str,
    plan: str,
    status: str,
    now: datetime | None = None,
) -> WatchEntry:
    access = keeper(by, office=True)
    now = now or timezone.now()
    required(
        case=case_id,
        petitioner=petitioner_id,
        owner=owner_id,
        reason=reason,
        plan=plan,
        status=status,
    )
    if status not in WatchEntry.Status.values:
        raise Invalid({"status": f"稳定状态“{status}”无效"})
    case = case_locked(by, case_id)
    link = CasePetitioner.objects.filter(
        case=case, petitioner_id=_int(petitioner_id, "petitioner")
    ).first()
    if link is None:
        raise Invalid({"petitioner": "所选人员不是该信访件的信访人"})
    owner = (
        Membership.objects.select_related("unit", "user")
        .filter(
            pk=_int(owner_id, "owner"),
            is_active=True,
            role__in=OWNER_ROLES,
            unit__path__under=access.home.path,
        )
        .first()
    )
    if owner is None:
        raise Invalid({"owner": "稳控责任人须为本辖区在职的领导、经办人或承办单位人员"})
    due = watch_review_due(practices_of(access.home), timezone.localdate(now))
    try:
        with transaction.atomic():
            entry = WatchEntry.objects.create(
                jurisdiction=access.home,
                petitioner_id=link.petitioner_id,
                case=case,
                reason=reason,
                owner=owner,
                owner_unit=owner.unit,
                plan=plan,
                status=status,
                added_by=by.user,
                added_at=now,
                last_reviewed_at=now,
                review_due=due,
            )
    except IntegrityError:
        raise Refused("该人员已在重点人员名单中。", field="petitioner") from None
    # The case's history says the person was listed, and who owns them — not who they are.
    case_event(
        case,
        by,
        "watch_listed",
        now,
        {"owner": f"{owner.user.full_name}（{owner.unit.name}）", "reason": reason},
    )
    audit(by, "watch_entry", entry.pk, {"case": case.number, "owner": owner.pk, "status": status})
    return entry


@transaction.atomic
def watch_review(
    *, by: Membership, entry_id, status: str, note: str, plan: str = "", now: datetime | None = None
) -> WatchReview:
    """The owner's (or the office's) periodic review: the status now, what was done, the plan
    adjusted if need be; the next review falls due at the end of the following period."""
    keeper(by)
    now = now or timezone.now()
    required(status=status, note=note)
    if status not in WatchEntry.Status.values:
        raise Invalid({"status": f"稳定状态“{status}”无效"})
    entry = (
        watch_for(by)
        .select_for_update(of=("self",))
        .filter(pk=_int(entry_id, "entry"), released_at=None)
        .first()
    )
    if entry is None:
        raise Invalid({"entry": "未找到该重点人员，或已撤销列管"})
    practices = practices_of(entry.jurisdiction)
    today = timezone.localdate(now)
    period = containing(practices.watch_review, today).code if practices.watch_review else ""
    review = WatchReview.objects.create(
        entry=entry, period=period, reviewed_at=now, by=by.user, status=status, note=note, plan=plan
    )
    entry.status, entry.last_reviewed_at = status, now
    entry.review_due = watch_review_due(practices, today)
    fields = ["status", "last_reviewed_at", "review_due"]
    if plan:
        entry.plan = plan
        fields.append("plan")
    entry.save(update_fields=fields)
    audit(by, "watch_review", entry.pk, {"status": status, "period": period})
    return review


@transaction.atomic
def watch_release(
    *, by: Membership, entry_id, reason: str, now: datetime | None = None
) -> WatchEntry:
    """Taken off the list (息诉罢访 …): the entry and its reviews stay, marked released."""
    keeper(by, office=True)
    now = now or timezone.now()
    required(reason=reason)
    entry = watch_for(by).filter(pk=_int(entry_id, "entry"), released_at=None).first()
    if entry is None:
        raise Invalid({"entry": "未找到该重点人员，或已撤销列管"})
    case = case_locked(by, entry.case_id)
    # Read again under the case's lock: a release sent twice at once found the entry listed
    # both times, and the second wrote its release over the first's, a second time in history.
    if not WatchEntry.objects.filter(pk=entry.pk, released_at=None).exists():
        raise Invalid({"entry": "未找到该重点人员，或已撤销列管"})
    entry.released_at, entry.released_reason = now, reason
    entry.save(update_fields=["released_at", "released_reason"])
    case_event(case, by, "watch_released", now, {"reason": reason})
    audit(by, "watch_entry", entry.pk, {"released": True})
    return entry


def _int(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid({field: "编号无效"}) from None
