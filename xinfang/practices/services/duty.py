"""The leaders' reception roster by weekday (seed 004 §二(六) 班子成员定点接访：周一至周五，当天的
带班领导) and the cadres' village visits with the cases they carried (001 §四(四) 每周二“扶贫日”
干部下访). A roster change ends the old slot the day before the new one starts: nothing is
deleted, and who was on duty on any past day stays answerable."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases.selectors import cases_for
from xinfang.org.choices import UnitKind
from xinfang.org.models import Membership, Unit

from ..models import DutySlot, FieldVisit
from ..rules import WEEKDAYS, duty_days, practices_of
from ..selectors import LEADERS
from .base import Invalid, audit, keeper, required


@transaction.atomic
def duty_assign(
    *, by: Membership, weekday, leader_id, starts_on: date | None, now: datetime | None = None
) -> DutySlot:
    access = keeper(by, office=True)
    now = now or timezone.now()
    required(weekday=weekday, leader=leader_id, starts_on=starts_on)
    days, _ = duty_days(practices_of(access.home))
    try:
        weekday = int(weekday)
    except (TypeError, ValueError):
        raise Invalid({"weekday": "星期无效"}) from None
    if days and weekday not in days:
        allowed = "、".join(WEEKDAYS[d] for d in days)
        raise Invalid({"weekday": f"本机关规则配置的接访日为{allowed}"})
    if not 0 <= weekday <= 6:
        raise Invalid({"weekday": "星期无效"})
    leader = (
        Membership.objects.select_related("user", "unit")
        .filter(
            pk=leader_id, is_active=True, role__in=LEADERS, unit__path__under=access.home.path
        )
        .first()
    )
    if leader is None:
        raise Invalid({"leader": "带班领导须为本辖区在职的分管领导或主要领导"})
    current = (
        DutySlot.objects.select_for_update()
        .filter(jurisdiction=access.home, weekday=weekday, ends_on=None)
        .first()
    )
    if current is not None:
        if starts_on <= current.starts_on:
            raise Invalid({"starts_on": f"须晚于现行排班的起始日期（{current.starts_on}）"})
        current.ends_on = starts_on - timedelta(days=1)
        current.save(update_fields=["ends_on"])
    try:
        with transaction.atomic():
            slot = DutySlot.objects.create(
                jurisdiction=access.home,
                weekday=weekday,
                leader=leader,
                starts_on=starts_on,
                created_by=by.user,
                created_at=now,
            )
    except IntegrityError:
        # Another roster change for this weekday committed while this one was read (its slot
        # is the open one now): this form was filled against the roster before it.
        raise Invalid(
            {"starts_on": f"{WEEKDAYS[weekday]}的排班刚由他人修改，请刷新页面后重新填写"}
        ) from None
    audit(
        by,
        "duty_slot",
        slot.pk,
        {"weekday": weekday, "leader": leader.pk, "starts_on": str(starts_on)},
    )
    return slot


@transaction.atomic
def field_visit_record(
    *,
    by: Membership,
    village_id,
    visited_on: date | None,
    note: str,
    case_ids=(),
    now: datetime | None = None,
) -> FieldVisit:
    access = keeper(by)
    now = now or timezone.now()
    required(village=village_id, visited_on=visited_on, note=note)
    if visited_on > timezone.localdate(now):
        raise Invalid({"visited_on": "下访日期不能晚于今天"})
    within = access.home if access.office else access.unit
    village = Unit.objects.filter(
        pk=village_id, kind=UnitKind.VILLAGE, path__under=within.path
    ).first()
    if village is None:
        raise Invalid({"village": "请选择本辖区（本单位）内的村（社区）"})
    try:
        ids = {int(i) for i in case_ids or ()}
    except (TypeError, ValueError):
        raise Invalid({"cases": "编号无效"}) from None
    cases = list(cases_for(by).filter(pk__in=ids).values_list("pk", flat=True))
    if len(cases) != len(ids):
        raise Invalid({"cases": "所选信访件中有您无权查看的"})
    _, poverty_day = duty_days(practices_of(access.home))
    visit = FieldVisit.objects.create(
        jurisdiction=access.home,
        cadre=by,
        village=village,
        visited_on=visited_on,
        on_poverty_day=poverty_day is not None and visited_on.weekday() == poverty_day,
        note=note,
        recorded_at=now,
    )
    visit.cases.set(cases)
    audit(by, "field_visit", visit.pk, {"village": village.name, "cases": len(cases)})
    return visit
