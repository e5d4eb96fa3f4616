"""Many cases quickly, for the tests of list shapes (query counts, plans): one case registered
through the services, then copies of its rows written in bulk — each copy its own petitioner,
demand, running deadline clock and (when asked) an assignment and an unanswered warning notice.
Not a stand-in for the services: what these tests read is the rows' shape, not how they came."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.conftest import register_in
from xinfang.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CasePetitioner,
    Clock,
    Demand,
    Petitioner,
    WarningNotice,
)
from xinfang.cases.services.due import next_due_subquery


def copies(
    j,
    n: int,
    *,
    state: str = "registered",
    unit=None,
    signed_for: bool = False,
    overdue: bool = False,
    warned: bool = False,
    transferred: bool = False,
    events: int = 0,
) -> list[Case]:
    """``n`` cases of jurisdiction ``j`` in ``state``; ``unit``: the lead unit assigned (active);
    ``overdue``: the running clock is past due; ``events``: extra history entries per case."""
    template = register_in(j)
    now = timezone.now()
    last = Case.objects.filter(jurisdiction=template.jurisdiction, year=template.year)
    # far above the numbers the register service issues (its sequence does not know of these)
    start = max(last.values_list("seq", flat=True)) + 100_000
    cases = []
    for i in range(n):
        received = now - timedelta(days=i % 300, hours=i)
        cases.append(
            Case(
                number=f"T{template.jurisdiction_id}-{template.year}-{start + i}",
                jurisdiction=template.jurisdiction,
                year=template.year,
                seq=start + i,
                profile=template.profile,
                state=state,
                channel=template.channel,
                received_at=received,
                registered_at=received + timedelta(minutes=5),
                registered_by=template.registered_by,
                matter=f"{template.matter}（第{i}件）",
                township=template.township,
                village=template.village,
                transferred_to_discipline=transferred,
            )
        )
    Case.objects.bulk_create(cases)
    people = Petitioner.objects.bulk_create(Petitioner(name=f"王{i}明") for i in range(n))
    CasePetitioner.objects.bulk_create(
        CasePetitioner(case=c, petitioner=p, role="main")
        for c, p in zip(cases, people, strict=True)
    )
    Demand.objects.bulk_create(
        Demand(case=c, seq=1, text=c.matter, category="危房改造") for c in cases
    )
    due = now - timedelta(days=2) if overdue else now + timedelta(days=20)
    Clock.objects.bulk_create(
        Clock(
            case=c,
            name="handling",
            label="办理期限",
            amount=60,
            unit="days",
            started_at=c.registered_at,
            due_at=due + timedelta(minutes=i),
        )
        for i, c in enumerate(cases)
    )
    if unit is not None:
        Assignment.objects.bulk_create(
            Assignment(
                case=c,
                unit=unit,
                role="lead",
                assigned_at=c.registered_at,
                assigned_by=template.registered_by,
                receiver_name="陈晓东",
                signed_for_at=c.registered_at if signed_for else None,
            )
            for c in cases
        )
    if warned:
        WarningNotice.objects.bulk_create(
            WarningNotice(case=c, jurisdiction_id=c.jurisdiction_id, rule="repeat",
                          reasons=["重复信访"], issued_at=now)
            for c in cases
        )
    if events:
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case=c,
                seq=k + 1,
                at=c.registered_at + timedelta(minutes=k),
                type="log_contact",
                actor=template.registered_by,
                actor_role="clerk",
                payload={"kind": "phone", "note": f"第{k}次电话联系"},
                profile_code=template.profile.code,
                profile_version=template.profile.version,
            )
            for c in cases
            for k in range(events)
        )
    # Each case's next deadline, as ``case_refresh_due`` stores it, in one statement for all.
    written = Case.objects.filter(pk__in=[c.pk for c in cases])
    written.update(next_due_at=next_due_subquery())
    stored = dict(written.values_list("pk", "next_due_at"))
    for c in cases:
        c.next_due_at = stored[c.pk]
    return cases


def office_mix(j) -> list:
    """An office's cases for the kept lists' tests (ledger, API): 60 registered (returned), 7 in
    progress at 将官池镇, 5 closed — more than a page, in states the filters tell apart."""
    made = copies(j, 60, state="registered")
    copies(j, 7, state="in_progress", unit=j.townships["将官池镇"])
    copies(j, 5, state="closed")
    return made
