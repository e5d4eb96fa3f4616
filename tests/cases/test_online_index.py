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
