"""Meetings the profile asks for (seed 001 §四(一) 隐患分析排查会议, 002 §三 月度调度会, 003 §三(一)
每月听取汇报, 004 §二(一) 每周一会商): who attended, the cases and screening findings discussed,
the measures decided. A holder that misses its period is flagged (``practices.sweep``)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from xinfang.cases.selectors import cases_for
from xinfang.org.models import Membership, Unit
from xinfang.registers.selectors import findings_for
from xinfang.reports.periods import containing

from ..holders import holds
from ..models import Meeting
from ..rules import meeting_rule, practices_of
from .base import Invalid, Refused, audit, keeper, required


@transaction.atomic
def meeting_record(
    *,
    by: Membership,
    rule: str,
    held_on: date | None,
    chaired_by: str,
    attendees: str,
    measures: str,
    discussion: str = "",
    unit: Unit | None = None,
    case_ids=(),
    finding_ids=(),
    now: datetime | None = None,
) -> Meeting:
    access = keeper(by)
    now = now or timezone.now()
    required(
        rule=rule, held_on=held_on, chaired_by=chaired_by, attendees=attendees, measures=measures
    )
    found = meeting_rule(practices_of(access.home), rule)
    if found is None:
        raise Invalid({"rule": f"本机关的规则配置没有“{rule}”这类会议"})
    if held_on > timezone.localdate(now):
        raise Invalid({"held_on": "召开日期不能晚于今天"})
    holder = access.unit if not access.office else (unit or access.home)
    if not holds(found, holder, access.home):
        raise Refused(f"{holder.name}不召开“{found.label}”。", field="unit")
    case_ids, finding_ids = _ids(case_ids, "cases"), _ids(finding_ids, "findings")
    cases = list(cases_for(by).filter(pk__in=case_ids).values_list("pk", flat=True))
    if len(cases) != len(set(case_ids)):
        raise Invalid({"cases": "所选信访件中有您无权查看的"})
    findings = list(findings_for(by).filter(pk__in=finding_ids).values_list("pk", flat=True))
    if len(findings) != len(set(finding_ids)):
        raise Invalid({"findings": "所选排查问题中有您无权查看的"})
    period = containing(found.period, held_on)
    meeting = Meeting.objects.create(
        jurisdiction=access.home,
        unit=holder,
        rule=found.name,
        label=found.label,
        period=period.code,
        period_start=period.start,
        held_on=held_on,
        chaired_by=chaired_by,
        attendees=attendees,
        discussion=discussion,
        measures=measures,
        recorded_by=by.user,
        recorded_at=now,
    )
    meeting.cases.set(cases)
    meeting.findings.set(findings)
    audit(
        by,
        "meeting",
        meeting.pk,
        {
            "rule": found.name,
            "unit": holder.name,
            "period": period.code,
            "cases": len(cases),
            "findings": len(findings),
        },
    )
    return meeting


def _ids(values, field: str) -> list[int]:
    try:
        return [int(v) for v in values or ()]
    except (TypeError, ValueError):
        raise Invalid({field: "编号无效"}) from None
