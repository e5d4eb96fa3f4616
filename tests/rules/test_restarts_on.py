"""``restarts_on``: a clock started afresh at an event, whatever it did before — the new unit's
sign-for after a reassignment (national), while a clock that only ``start``s on an event already
stopped is not started again."""

import pytest

from tests.cases.test_engine_edges import assigned_case
from tests.conftest import sh
from xinfang.cases.facts import case_facts
from xinfang.cases.models import Clock
from xinfang.cases.services import perform
from xinfang.cases.services.base import profile_for
from xinfang.rules.engine import apply_event, heard
from xinfang.web.present import clock_view

pytestmark = pytest.mark.django_db


def test_reassigned_restarts_the_sign_for_clock_even_after_it_was_met(jianan):
    # given a case the township signed for (its sign-for clock stopped, met)
    case = assigned_case(jianan)
    case = perform("sign_for", case=case, by=jianan.member("township"), at=sh(2026, 9, 15, 9))
    profile = profile_for(case)
    assert heard(profile, "reassigned")
    # when the clocks hear a reassignment
    changes = apply_event(case, profile, "reassigned", sh(2026, 9, 16, 10), case_facts(case))
    # then a sign-for clock runs again from that instant; nothing else moves
    assert [(ch["clock"], "started" in ch, ch["restarted"]) for ch in changes] == [
        ("sign_for", True, True)]
    running = case.clocks.get(name="sign_for", status=Clock.Status.RUNNING)
    assert running.started_at == sh(2026, 9, 16, 10)
    assert case.clocks.filter(name="handling", status=Clock.Status.RUNNING).count() == 1


def test_an_event_no_rule_restarts_on_moves_nothing(jianan):
    case = assigned_case(jianan)
    profile = profile_for(case)
    assert not heard(profile, "reassigned:assist")
    assert apply_event(case, profile, "reassigned:assist", sh(2026, 9, 16, 10),
                       case_facts(case)) == []


def test_a_duty_not_done_before_a_restart_is_not_counted_as_met(jianan):
    # given a case the township has not signed for, its sign-for clock still within its day
    case = assigned_case(jianan)
    old = case.clocks.get(name="sign_for", status=Clock.Status.RUNNING)
    profile = profile_for(case)
    at = old.due_at - (old.due_at - old.started_at) / 2
    # when the case is reassigned before the deadline
    changes = apply_event(case, profile, "reassigned", at, case_facts(case))
    # then the old unit's clock ends unjudged: it neither signed in time nor ran late
    old.refresh_from_db()
    assert old.status == Clock.Status.STOPPED and old.met is None
    assert changes[0] == {"clock": "sign_for", "stopped": at.isoformat(), "met": None,
                          "restarted": True}
    # and the case page says it ended with the reassignment, not that it was done
    view = clock_view(old, at)
    assert (view.tone, view.text) == ("ended", "已终止（改派，不计时效）")


def test_a_duty_already_late_at_a_restart_stays_late(jianan):
    case = assigned_case(jianan)
    old = case.clocks.get(name="sign_for", status=Clock.Status.RUNNING)
    at = old.due_at + (old.due_at - old.started_at)
    apply_event(case, profile_for(case), "reassigned", at, case_facts(case))
    old.refresh_from_db()
    assert old.status == Clock.Status.STOPPED and old.met is False
