"""Two sweep workers at once (an overlapping schedule, a restarted worker): every alert once,
no batch fails on the other's inserts, and both together report no more than there are. Real
threads with their own connections, on SQLite (a file database) and PostgreSQL."""

import pytest
from django.db.models import Count

from tests.cases.test_concurrency import run_in_threads
from tests.conftest import id_number, register_in, sh
from xinfang.cases.models import Alert, Clock
from xinfang.cases.services import PetitionerInput
from xinfang.cases.services.supervision import sweep
from xinfang.demo.org import build_jurisdiction

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sweeps_at_once_raise_every_alert_once():
    j = build_jurisdiction(profile_code="jianan")
    for i in range(6):
        register_in(j, at=sh(2026, 9, 14, 10), received_at=sh(2026, 9, 14, 9),
                    petitioners=[PetitionerInput(name=f"信访人{i}",
                                                 id_number=id_number(f"41102319800101{i:03d}"))])
    results = []

    def work(_i):
        results.append(sweep(at=sh(2026, 10, 30)))

    assert run_in_threads(work, 2) == []
    dupes = (Alert.objects.values("case", "clock", "kind", "role").annotate(n=Count("id"))
             .filter(n__gt=1))
    assert not dupes.exists()
    overdue = Alert.objects.filter(kind="overdue").count()
    assert overdue > 0 and sum(r.overdue for r in results) >= overdue
    assert not Clock.objects.filter(status="running", kind="deadline", due_at__lt=sh(2026, 10, 30),
                                    overdue_alerted=False).exists()
    assert sweep(at=sh(2026, 10, 30)).overdue == 0
