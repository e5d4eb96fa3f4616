"""The benchmark's timing loop (bench/workloads.py): a page is timed against its floor and against
a replay of its own statements, and the replay is the call's SQL, all of it, nothing else."""

import pytest
from django.db import connection

from bench.workloads import Counter, measure, reads_of, replayer
from xinfang.org.models import Unit

pytestmark = pytest.mark.django_db


def read_units(_i):
    units = list(Unit.objects.order_by("pk")[:5])
    return [u.name for u in units], Unit.objects.filter(parent__isnull=True).count()


def test_replay_runs_the_calls_statements_again_and_nothing_else():
    # given a call of two statements, captured
    Unit.objects.create(name="许昌市", kind="市")
    captured = Counter(keep=True)
    with connection.execute_wrapper(captured):
        read_units(0)
    assert captured.n == len(captured.statements) == 2
    # when the capture is replayed
    replayed = Counter(keep=True)
    with connection.execute_wrapper(replayed):
        replayer(captured.statements)(0)
    # then the same statements with the same parameters ran, and only those
    assert replayed.statements == captured.statements


def test_measure_times_the_replay_beside_each_call():
    Unit.objects.create(name="许昌市", kind="市")
    replays: list[float] = []
    times, floors, queries, _loads = measure(read_units, None, repeat=4, budget=5,
                                             replays=replays)
    assert len(times) == len(replays) == 4 and floors == []
    assert queries == 2 and all(r > 0 for r in replays)
    # without a list to fill, nothing is captured or replayed
    times, *_ = measure(read_units, None, repeat=3, budget=5)
    assert len(times) == 3


def test_a_replay_leaves_the_writes_out():
    # given a call that reads, then writes in a transaction (as the case page audits a reading)
    from django.db import transaction

    def read_and_write(_i):
        read_units(0)
        with transaction.atomic():
            Unit.objects.create(name="建安区", kind="县区")

    captured = Counter(keep=True)
    with connection.execute_wrapper(captured):
        read_and_write(0)
    # then only its reads are kept, and replaying them writes nothing
    reads = reads_of(captured.statements)
    assert [s[0].split()[0] for s in reads] == ["SELECT", "SELECT"]
    before = Unit.objects.count()
    replayer(reads)(0)
    assert Unit.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_a_transactions_own_statements_are_not_counted_as_queries():
    # given a write in a transaction of its own (as a request's), on either engine: SQLite's
    # BEGIN IMMEDIATE goes through Django's cursor, PostgreSQL's BEGIN does not
    from django.db import transaction

    def write(_i):
        with transaction.atomic():
            Unit.objects.create(name="建安区", kind="县区")
            with transaction.atomic():  # a savepoint and its release
                Unit.objects.create(name="魏都区", kind="县区")

    counted = Counter(keep=True)
    with connection.execute_wrapper(counted):
        write(0)
    # then the queries are the two units' INSERT and UPDATE (of its path) each, and the
    # transaction's statements are kept but not counted
    kept = [sql.split()[0] for sql, _params, _many in counted.statements]
    assert counted.n == 4, kept
    assert kept.count("INSERT") == kept.count("UPDATE") == 2, kept
    assert kept.count("SAVEPOINT") == kept.count("RELEASE") == 1, kept
    if connection.vendor == "sqlite":
        assert kept[0] == "BEGIN", kept
