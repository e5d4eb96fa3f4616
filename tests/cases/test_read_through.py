"""``cases.selectors.read_case_through``: the door's read of one case, compiled once per door
key and kept, bound with the case's id and the request's time on every read — the same case
the ORM reads, and never a case another door admitted."""

from datetime import timedelta

import pytest
from django.db.models import Case as SqlCase
from django.db.models import Value, When

from tests.cases.test_related import _lived_case, _seen
from xinfang.api.filters import overdue_q
from xinfang.api.views import _as_the_detail_reads
from xinfang.cases import probes
from xinfang.cases.models import Case
from xinfang.cases.related import READS
from xinfang.cases.selectors import (
    _door_head,
    cases_for,
    door_for,
    door_remember,
    read_case_through,
)
from xinfang.security.models import Recusal

pytestmark = pytest.mark.django_db
ROWS = ("petitioner_links", "demands", "clocks", "assignments", "events")


def _orm(m, now):
    """The same read through the ORM, compiled for this call."""
    return cases_for(m, one=True).annotate(
        xf_recused=probes.any_recusal(m.user_id),
        overdue=SqlCase(When(overdue_q(now), then=Value(True)), default=Value(False)),
    ).select_related("jurisdiction")


def test_a_read_compiled_once_is_the_case_the_orm_reads(jianan, register):
    case = _lived_case(jianan, register)
    clerk = jianan.member("clerk")
    now = case.registered_at + timedelta(days=3)
    _door_head.cache_clear()
    got = [read_case_through(clerk, case.pk, ROWS, _as_the_detail_reads, now=now)
           for _ in range(3)]
    assert (_door_head.cache_info().misses, _door_head.cache_info().hits) == (1, 2)
    want = _orm(clerk, now).get(pk=case.pk)
    for one in got:
        assert _seen(one, {"jurisdiction": {}}) == _seen(want, {"jurisdiction": {}})
        assert (one.xf_recused, one.overdue) == (want.xf_recused, want.overdue)
        for name in ROWS:
            assert [r.pk for r in getattr(one, name).all()] == [
                r.pk for r in READS[name].make(case.pk)], name


def test_each_read_binds_its_own_time(jianan, register):
    case = register()
    due = Case.objects.get(pk=case.pk).open_due_at
    assert due is not None
    clerk = jianan.member("clerk")
    before = read_case_through(clerk, case.pk, (), _as_the_detail_reads,
                               now=due - timedelta(hours=1))
    after = read_case_through(clerk, case.pk, (), _as_the_detail_reads,
                              now=due + timedelta(hours=1))
    assert (before.overdue, after.overdue) == (False, True)
    with pytest.raises(ValueError, match="time"):
        read_case_through(clerk, case.pk, (), _as_the_detail_reads)


def test_a_door_that_does_not_admit_the_case_is_refused_after_another_door_read_it(
        jianan, register):
    case = register()  # not assigned: the bureau's door does not admit it
    clerk, bureau = jianan.member("clerk"), jianan.member("bureau")
    now = case.registered_at
    assert read_case_through(clerk, case.pk, ROWS, _as_the_detail_reads, now=now).pk == case.pk
    with pytest.raises(Case.DoesNotExist):
        read_case_through(bureau, case.pk, ROWS, _as_the_detail_reads, now=now)
    with pytest.raises(Case.DoesNotExist):
        read_case_through(None, case.pk, ROWS, _as_the_detail_reads, now=now)
    with pytest.raises(Case.DoesNotExist):  # an id past the column's range admits nothing
        read_case_through(clerk, 2**63, ROWS, _as_the_detail_reads, now=now)


def test_a_recusal_declared_after_the_read_was_compiled_refuses_the_case(jianan, register):
    case = register()
    clerk = jianan.member("clerk")
    now = case.registered_at
    # a request whose door read the recusals (none): its statement leaves their probe out
    door_remember(clerk)
    assert not door_for(clerk).any_recusal and door_for(clerk).key[-1] is True
    assert read_case_through(clerk, case.pk, (), _as_the_detail_reads, now=now).pk == case.pk
    Recusal.objects.create(user=clerk.user, case=case, reason="本人亲属")
    # the next request's door knows the recusal: another key, another statement
    door_remember(clerk)
    assert door_for(clerk).any_recusal and door_for(clerk).key[-1] is False
    with pytest.raises(Case.DoesNotExist):
        read_case_through(clerk, case.pk, (), _as_the_detail_reads, now=now)
    # and a request whose door has not read them asks inside the statement
    door_remember(clerk)
    with pytest.raises(Case.DoesNotExist):
        read_case_through(clerk, case.pk, (), _as_the_detail_reads, now=now)


def test_a_transitions_locked_read_compiled_once_is_the_orms(jianan, register):
    from xinfang.cases.services.transitions import lock_case, lock_case_through

    case, other = register(), register()
    # the approver recused from this case; the clerk from another (a recusal declared: True)
    Recusal.objects.create(user=jianan.member("approver").user, case=case, reason="本人亲属")
    Recusal.objects.create(user=jianan.member("clerk").user, case=other, reason="本人亲属")
    for role in ("clerk", "approver", "township"):
        m = jianan.member(role)
        try:
            want = lock_case(case.pk, by=m, scope=cases_for(m, one=True))
        except Case.DoesNotExist:
            want = None
        for _ in range(2):
            if want is None:
                with pytest.raises(Case.DoesNotExist):
                    lock_case_through(case.pk, by=m)
                continue
            got = lock_case_through(case.pk, by=m)
            joined = {"profile": {}, "jurisdiction": {}}
            assert _seen(got, joined) == _seen(want, joined), role
            assert (got.xf_respondent, got.xf_recused) == (want.xf_respondent, want.xf_recused)
            assert role != "clerk" or got.xf_recused is True
