"""PostgreSQL's search indexes take in their pending entries in the worker, not inside the insert
that fills the pending list (``cases.dbstats.gin_upkeep``)."""

import pytest
from django.db import connection
from django.test import override_settings

from tests.conftest import register_in
from xinfang.cases.dbstats import gin_upkeep
from xinfang.jobs.models import PeriodicRun
from xinfang.jobs.worker import Loop


@pytest.mark.django_db(transaction=True)
def test_the_upkeep_moves_what_registrations_left_pending_and_the_search_still_finds_them(
        jianan):
    if connection.vendor != "postgresql":
        assert gin_upkeep() == {"skipped": connection.vendor}
        return
    made = [register_in(jianan, matter=f"反映危房改造补助未到位第{i}次").pk for i in range(4)]
    done = gin_upkeep()["moved"]
    # the matter's and the demands' trigram indexes had the registrations' entries pending
    assert done["case_matter_trgm"] >= 1 and done["demand_text_trgm"] >= 1
    assert gin_upkeep()["moved"] == dict.fromkeys(done, 0)
    from xinfang.cases.models import Case
    from xinfang.cases.search import search_q

    found = Case.objects.filter(search_q("危房改造补助未到位第2")).values_list("pk", flat=True)
    assert list(found) == [made[2]]


@pytest.mark.django_db(transaction=True)
@override_settings(XINFANG_PERIODIC={"gin_upkeep": ("xinfang.jobs.periodic.gin_upkeep", 60)})
def test_the_worker_runs_the_gin_upkeep_on_its_schedule(jianan):
    register_in(jianan)
    Loop(worker_id="a", interval=0).drain()
    run = PeriodicRun.objects.get(name="gin_upkeep")
    assert run.finished_at and not run.error
    if connection.vendor == "postgresql":
        assert run.result["moved"]["case_matter_trgm"] >= 1
    else:
        assert run.result == {"skipped": "sqlite"}


def test_only_a_postgresql_site_schedules_the_gin_upkeep(settings):
    assert ("gin_upkeep" in settings.XINFANG_PERIODIC) == (connection.vendor == "postgresql")
