"""Helpers for the profile scenario tests: walk a case through ``perform`` at chosen instants,
asserting each history entry, and read its clocks back."""

from __future__ import annotations

from datetime import datetime

from xinfang.cases.models import Case, CaseEvent, Clock
from xinfang.cases.services import perform
from xinfang.org.models import Membership, User


class Walk:
    """``walk("assign", clerk, sh(...), lead=...)`` performs one transition at that instant and
    returns its history entry, after checking it is the one new entry, typed, timed and
    attributed."""

    def __init__(self, case: Case):
        self.case = case

    def __call__(self, name: str, by: Membership, at: datetime, **params) -> CaseEvent:
        before = self.case.events.count()
        self.case = perform(name, case=self.case, by=by, at=at,
                            expected_version=self.case.version, **params)
        assert self.case.events.count() == before + 1, f"{name}: exactly one history entry"
        event = self.case.events.order_by("-seq").first()
        assert event.type == name
        assert event.at == at
        assert (event.actor, event.actor_role, event.actor_unit) == (by.user, by.role, by.unit)
        assert (event.profile_code, event.profile_version) == (self.case.profile.code,
                                                               self.case.profile.version)
        return event

    def clock(self, name: str) -> Clock:
        return clock(self.case, name)

    def names(self) -> set[str]:
        return set(self.case.clocks.values_list("name", flat=True))


def clock(case: Case, name: str) -> Clock:
    """The latest clock of that name on the case."""
    return case.clocks.filter(name=name).order_by("-started_at", "-pk").first()


def changes(event: CaseEvent) -> dict[str, dict]:
    """The clock changes an event recorded, by clock name (the last change of each)."""
    return {c["clock"]: c for c in event.payload.get("clocks", [])}


def started(event: CaseEvent) -> set[str]:
    return {c["clock"] for c in event.payload.get("clocks", []) if "started" in c}


def stopped(event: CaseEvent) -> dict[str, bool]:
    return {c["clock"]: c["met"] for c in event.payload.get("clocks", []) if "stopped" in c}


def member(unit, role: str, username: str) -> Membership:
    """One more membership, for an office the demo tree staffs only with a clerk."""
    user = User.objects.create(username=username, full_name=username)
    return Membership.objects.create(user=user, unit=unit, role=role)


def delivered_referral(j, *, delivered_at: datetime):
    """建安区 (seed 001 二(五)): a case referred by the city, answered and its letter delivered
    at ``delivered_at`` — which starts the Friday 10:00 weekly batch. Returns the walk."""
    from datetime import timedelta

    from tests.conftest import register_in
    from xinfang.cases import choices as c

    clerk, approver, township = j.member("clerk"), j.member("approver"), j.member("township")
    day = delivered_at - timedelta(days=7)
    step = iter(range(1, 20))

    def at():
        return day + timedelta(minutes=next(step))

    walk = Walk(register_in(j, at=at(), received_at=day, source_level=c.SourceLevel.CITY))
    walk("propose", clerk, at(), proposal="交将官池镇")
    walk("sign_off", approver, at())
    walk("assign", clerk, at(), lead=j.townships["将官池镇"], receiver_name="陈晓东")
    walk("sign_for", township, at())
    walk("record_finding", township, at(), findings={1: ("true", "solved", "补助已补发")})
    walk("draft_letter", township, at(), body="经核查，你反映的问题属实，已补发。")
    walk("approve_letter", approver, at())
    walk("issue_letter", clerk, at())
    walk("record_delivery", clerk, delivered_at + timedelta(minutes=30), mode="in_person",
         delivered_at=delivered_at, deliverer="陈晓东", recipient="张三明", receipt_signed=True)
    return walk
