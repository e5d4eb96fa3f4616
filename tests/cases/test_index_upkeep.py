"""The search indexes are kept up to date by the worker, not inside the request that wrote them:
SQLite's are merged and its WAL checkpointed (``cases.dbstats.sqlite_upkeep``, migration 0028);
PostgreSQL's GIN indexes take in their pending entries (``cases.dbstats.gin_upkeep``)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tests.conftest import register_in
from xinfang.cases.dbstats import FTS_TABLES, gin_upkeep, sqlite_upkeep
from xinfang.cases.search import sqlite_fts
from xinfang.jobs.models import PeriodicRun
from xinfang.jobs.worker import Loop


def sqlite_with_fts():
    if connection.vendor != "sqlite" or not sqlite_fts():
        pytest.skip("SQLite's FTS5 tables")


def segments(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}_data")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_search_tables_do_not_merge_inside_a_write():
    sqlite_with_fts()
    with connection.cursor() as cursor:
        for table in FTS_TABLES:
            cursor.execute(f"SELECT v FROM {table}_config WHERE k = 'automerge'")
            assert cursor.fetchone() == (0,), table


@pytest.mark.django_db(transaction=True)
def test_the_upkeep_merges_what_registrations_left_and_the_search_still_finds_them(jianan):
    sqlite_with_fts()
    while any(sqlite_upkeep()["merged"].values()):
        pass  # from an index the worker has settled, whatever earlier tests left in it
    made = [register_in(jianan, matter=f"反映危房改造补助未到位第{i}次").pk for i in range(6)]
    before = segments("cases_case_fts")
    done = sqlite_upkeep()
    assert done["merged"]["cases_case_fts"] >= 1 and done["merged"]["cases_demand_fts"] >= 1
    assert segments("cases_case_fts") < before
    assert len(done["checkpoint"]) == 3 and done["checkpoint"][0] == 0  # not busy
    again = sqlite_upkeep()
    assert again["merged"] == {"cases_case_fts": 0, "cases_demand_fts": 0}
    from xinfang.cases.models import Case
    from xinfang.cases.search import search_q

    found = Case.objects.filter(search_q("危房改造补助未到位第3")).values_list("pk", flat=True)
    assert list(found) == [made[3]]


# what each job's run keeps where its database has the work to do
DID_WORK = {"sqlite_upkeep": ("sqlite", lambda result: "checkpoint" in result),
            "gin_upkeep": ("postgresql", lambda result: result["moved"]["case_matter_trgm"] >= 1)}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("job", sorted(DID_WORK))
def test_the_worker_runs_each_upkeep_on_its_schedule(jianan, job):
    register_in(jianan)
    with override_settings(XINFANG_PERIODIC={job: (f"xinfang.jobs.periodic.{job}", 60)}):
        Loop(worker_id="a", interval=0).drain()
    # A drain that crosses a minute's end on a loaded machine claims the next period too (seen
    # once under two test runs at a time): the first run did the work, each ran cleanly.
    runs = list(PeriodicRun.objects.filter(name=job).order_by("period"))
    assert runs and all(r.finished_at and not r.error for r in runs)
    run = runs[0]
    vendor, did_work = DID_WORK[job]
    if connection.vendor == vendor:
        assert did_work(run.result)
    else:
        assert run.result == {"skipped": connection.vendor}


def test_only_an_sqlite_site_schedules_the_upkeep(settings):
    assert ("sqlite_upkeep" in settings.XINFANG_PERIODIC) == (connection.vendor == "sqlite")


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


def test_only_a_postgresql_site_schedules_the_gin_upkeep(settings):
    assert ("gin_upkeep" in settings.XINFANG_PERIODIC) == (connection.vendor == "postgresql")


@pytest.mark.django_db(transaction=True)
def test_db_upkeep_brings_the_search_indexes_up_to_date_by_hand(jianan):
    register_in(jianan)
    out = StringIO()
    call_command("db", "upkeep", stdout=out)
    done = json.loads(out.getvalue())
    if connection.vendor == "sqlite":
        assert len(done["checkpoint"]) == 3 and set(done["merged"]) <= set(FTS_TABLES)
    else:
        assert done["moved"]["case_matter_trgm"] >= 1  # the registration's entries, moved
    out = StringIO()
    call_command("db", "upkeep", stdout=out)
    if connection.vendor != "sqlite":
        assert not any(json.loads(out.getvalue())["moved"].values())  # nothing left pending


@pytest.mark.django_db(transaction=True)
def test_the_sweep_loop_keeps_the_search_indexes_up_to_date(jianan, monkeypatch):
    from xinfang.cases import dbstats

    register_in(jianan)
    done = []
    real = dbstats.index_upkeep
    monkeypatch.setattr("xinfang.rules.management.commands.sweep.index_upkeep",
                        lambda: done.append(real()))
    call_command("sweep", "--every", "0.01", "--times", "2", stdout=StringIO())
    assert len(done) == 2  # after each pass
    if connection.vendor == "postgresql":
        assert done[0]["moved"]["case_matter_trgm"] >= 1
    else:
        assert "checkpoint" in done[0]
