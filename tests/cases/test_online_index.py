"""Migration 0020 builds the work queue's index on ``cases_case`` without holding the cases'
writes on PostgreSQL (``CREATE INDEX CONCURRENTLY``, outside a transaction), and as a plain
index on SQLite; both ways, there and back, leave a usable index."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("cases", "0019_sup11_case_leader_owned_open")]
ITSELF = [("cases", "0020_lead15_case_queue_idx")]


def _index_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "INDEX" in q["sql"] and "case_queue_idx" in q["sql"]]


def _valid_index() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT i.indisvalid FROM pg_index i JOIN pg_class c "
                           "ON c.oid = i.indexrelid WHERE c.relname = 'case_queue_idx'")
            row = cursor.fetchone()
            return bool(row and row[0])
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' "
                       "AND name = 'case_queue_idx'")
        return cursor.fetchone() is not None


def _migrate(targets) -> list[str]:
    executor = MigrationExecutor(connection)
    with CaptureQueriesContext(connection) as queries:
        executor.migrate(targets)
    return _index_statements(queries)


def test_the_queue_index_is_built_online_where_the_database_can():
    assert _valid_index()
    try:
        _migrate(ITSELF)
        dropped = _migrate(BEFORE)  # 0020 reversed alone
        assert not _valid_index()
        built = _migrate(ITSELF)  # and applied alone
        assert _valid_index()
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # all at the newest
    assert _valid_index()
    (create,), (drop,) = built, dropped
    online = connection.vendor == "postgresql"
    assert create.startswith("CREATE INDEX CONCURRENTLY" if online else "CREATE INDEX")
    assert ("CONCURRENTLY" in drop) is online


# -- 0025: indexes a composite index covers ------------------------------------------------------

COVERED = [("cases", "0025_lead19_covered_field_indexes")]
BEFORE_COVERED = [("cases", "0024_lead18_order_by_case_id")]
GONE = {  # an index that must be gone at the newest migration, and where it existed
    "cases_caseevent_case_id_6c6031ac": "both", "cases_demand_case_id_b8a61102": "both",
    "cases_casepetitioner_case_id_6972e060": "both", "cases_assignment_unit_id_a6a9581f": "both",
    "cases_case_state_eb673365": "both", "cases_case_township_id_297cee2c": "both",
    "cases_case_village_id_9afc21ac": "both", "cases_case_state_eb673365_like": "postgresql",
    "cases_case_number_980c9551_like": "postgresql",
    "cases_petitioner_id_number_index_9df0d9ed_like": "postgresql",
    "cases_petitioner_name_index_37940249_like": "postgresql",
    "cases_petitioner_name_pinyin_index_da33dfa1_like": "postgresql",
    "cases_petitioner_phone_index_b22fb06d_like": "postgresql",
}
KEPT = ["case_state_due_idx", "case_village_received", "cases_petitioner_id_number_index_9df0d9ed",
        "cases_petitioner_phone_index_b22fb06d"]
# The unique indexes that lead with the case (SQLite keeps them as its own unnamed autoindexes).
KEPT_UNIQUE = ["case_event_seq_unique", "demand_seq_unique", "case_petitioner_unique"]


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {name for (name,) in cursor.fetchall()}


def test_covered_indexes_are_dropped_online_and_come_back_when_reversed():
    kept = set(KEPT + (KEPT_UNIQUE if connection.vendor == "postgresql" else []))
    had = {name for name, where in GONE.items() if where in ("both", connection.vendor)}
    assert not _indexes() & set(GONE)
    assert kept <= _indexes()
    try:
        _migrate(BEFORE_COVERED)  # 0025 reversed alone: every dropped index is built again
        assert had <= _indexes()
        executor = MigrationExecutor(connection)
        with CaptureQueriesContext(connection) as queries:
            executor.migrate(COVERED)
        drops = [q["sql"] for q in queries if q["sql"].startswith("DROP INDEX")]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert not _indexes() & set(GONE) and kept <= _indexes()
    assert len(drops) == len(had)
    assert all(("CONCURRENTLY" in sql) is (connection.vendor == "postgresql") for sql in drops)


def _included_columns(name: str) -> int | None:
    """How many non-key columns the index carries (PostgreSQL), None when it is missing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT i.indnatts - i.indnkeyatts FROM pg_index i JOIN pg_class c "
                       "ON c.oid = i.indexrelid WHERE c.relname = %s AND i.indisvalid", [name])
        row = cursor.fetchone()
        return row[0] if row else None


def test_the_leader_owned_index_carries_the_id_and_is_rebuilt_online():
    """0026: the partial index of open leader-owned cases includes the id on PostgreSQL (the
    supervision page's reads are index-only); dropped and built concurrently, there and back."""
    name = "case_leader_owned_open"
    try:
        # back to 0026 first: a later migration's own rebuild of the table (SQLite) is not 0026's
        MigrationExecutor(connection).migrate([("cases", "0026_lead19_leader_owned_covering")])
        with CaptureQueriesContext(connection) as back:
            MigrationExecutor(connection).migrate([("cases", "0025_lead19_covered_field_indexes")])
        before = _included_columns(name) if connection.vendor == "postgresql" else None
        with CaptureQueriesContext(connection) as forth:
            MigrationExecutor(connection).migrate([("cases", "0026_lead19_leader_owned_covering")])
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    statements = [q["sql"] for q in [*back.captured_queries, *forth.captured_queries]
                  if name in q["sql"]]
    assert len(statements) == 4  # drop and build, each way
    if connection.vendor == "postgresql":
        assert (before, _included_columns(name)) == (0, 1)
        assert all("CONCURRENTLY" in sql for sql in statements)
        assert "INCLUDE" in statements[-1]
    else:
        assert name in _indexes()


def _width(name: str) -> int | None:
    """The index's columns: carried (PostgreSQL: non-key) or keyed (SQLite, which has no
    INCLUDE); None when it is missing."""
    if connection.vendor == "postgresql":
        return _included_columns(name)
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA index_info({name})")
        return len(cursor.fetchall()) or None


def test_the_received_index_carries_the_backlogs_times_there_and_back():
    """0038: ``case_jurisdiction_received`` also carries when a case was registered and closed
    (the goals' backlog reads the index alone); online on PostgreSQL, and on SQLite the carried
    columns are key columns. Reversed, the index is as 0034 built it."""
    name = "case_jurisdiction_received"
    try:
        MigrationExecutor(connection).migrate([("cases", "0037_sqlite_drop_due_sort")])
        before = _width(name)
        with CaptureQueriesContext(connection) as forth:
            MigrationExecutor(connection).migrate(
                [("cases", "0038_case_jurisdiction_received_wider")])
        after = _width(name)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    if connection.vendor == "postgresql":
        assert (before, after) == (8, 10)
        built = [q["sql"] for q in forth.captured_queries
                 if name in q["sql"] and " INDEX " in q["sql"]]
        assert len(built) == 2 and all("CONCURRENTLY" in sql for sql in built)
    else:
        assert (before, after) == (2, 11)
