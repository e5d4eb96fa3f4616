"""A sweep split between processes (issue 9: the first pass at a million cases) raises exactly
what one process raises: the same alerts, notices, history entries, ownership items and backlog
lines for the same cases, every history chain still sealed, nothing twice. Real forked workers
on a real PostgreSQL, with data they can see (committed)."""

from collections import Counter

import pytest
from django.db import connection
from django.db.models import F

from tests.conftest import id_number, register_in, sh
from xinfang.audit.history import history_verify
from xinfang.cases.models import Alert, Case, CaseEvent
from xinfang.cases.services import PetitionerInput, sweep_split
from xinfang.cases.services.supervision import sweep
from xinfang.demo.org import build_jurisdiction
from xinfang.notify.models import Notice
from xinfang.ownership.models import OwnershipItem
from xinfang.registers.models import BacklogCase

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="forked sweep workers need a real PostgreSQL (CI=true …)"),
]

LATE = sh(2026, 10, 30)


def _cases(j, first: int, n: int = 8) -> list[Case]:
    cases = [register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                         petitioners=[PetitionerInput(name=f"信访人{i}", id_number=id_number(
                             f"41102319800101{i:03d}"))])
             for i in range(first, first + n)]
    # Half become repeats after registration, as a transition would make them: the sweep's
    # warning rule (jianan backlog_ownership) applies to them, with its ownership and backlog.
    Case.objects.filter(pk__in=[case.pk for case in cases[::2]]).update(
        repeat_count=1, version=F("version") + 1)
    # and half of those have their leader already: repeats owned by a leader enter the backlog
    Case.objects.filter(pk__in=[case.pk for case in cases[::4]]).update(
        leader_owner=j.member("approver").user)
    return cases


def _outcome(case: Case) -> tuple:
    return (
        tuple(sorted(Alert.objects.filter(case=case).values_list("kind", "role", "message"))),
        tuple(sorted(Notice.objects.filter(case=case).values_list("kind", "role", "todo"))),
        tuple(CaseEvent.objects.filter(case=case).order_by("seq").values_list("type", flat=True)),
        tuple(OwnershipItem.objects.filter(case=case).order_by("position")
              .values_list("label", flat=True)),
        tuple(BacklogCase.objects.filter(case=case).values_list("entry", flat=True)),
        Case.objects.filter(pk=case.pk).values_list("leader_owner_id", flat=True).get(),
    )


def _without_number(outcome: tuple, number: str) -> tuple:
    alerts, notices, *rest = outcome
    return (tuple((k, r, m.replace(number, "…")) for k, r, m in alerts), notices, *rest)


def test_a_split_sweep_raises_what_one_process_raises(monkeypatch):
    j = build_jurisdiction(profile_code="jianan")
    monkeypatch.setattr(sweep_split, "SPLIT_FROM", 1)
    taken = []
    split = sweep_split.split_sweep

    def spy(**kwargs):
        taken.append(split(**kwargs))
        return taken[-1]

    monkeypatch.setattr(sweep_split, "split_sweep", spy)

    # when: one set of cases is swept by two processes, then the same cases again, registered
    # afterwards, by one
    first = _cases(j, 0)
    by_two = sweep(at=LATE, processes=2)
    second = _cases(j, 100)
    by_one = sweep(at=LATE, processes=1)

    # then
    assert taken[0] is not None and taken[1] is None, "the first sweep must have been split"
    assert by_two.as_dict() == by_one.as_dict()
    assert by_two.overdue > 0 and by_two.warnings == 4 and by_two.backlog > 0
    assert {case.pk % 2 for case in first} == {0, 1}, "both workers must have had cases"
    for a, b in zip(first, second, strict=True):
        assert _without_number(_outcome(a), a.number) == _without_number(_outcome(b), b.number)
    assert history_verify().ok
    kinds = Counter(Alert.objects.values_list("kind", flat=True))
    assert kinds["warning"] == 8  # one per repeat case, per process count
    assert sweep(at=LATE, processes=2).as_dict() == dict.fromkeys(by_one.as_dict(), 0)
