"""``dbstats.statistics_target``: the migrations' per-column statistics targets (issue 9)."""

import pytest
from django.db import connection

from xinfang.cases.dbstats import statistics_target

pytestmark = pytest.mark.django_db

# (table, column, target) as the migrations set them
SET = [("org_unit", "path", 1000), ("cases_case", "jurisdiction_id", 1000),
       ("figures_figuresum", "jurisdiction_id", 10000),
       ("figures_figuretotal", "jurisdiction_id", 10000),
       ("registers_backlogcase", "jurisdiction_id", 10000)]


def target(table: str, column: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT attstattarget FROM pg_attribute WHERE attrelid = %s::regclass "
                       "AND attname = %s", [table, column])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_the_migrations_set_each_columns_target():
    for table, column, value in SET:
        assert target(table, column) == value, (table, column)


def test_the_operation_sets_and_restores_postgresqls_target_and_leaves_sqlite_alone():
    operation = statistics_target("org_unit", "path", 321)
    if connection.vendor != "postgresql":
        # SQLite has no such setting (the statement is a syntax error there): nothing may run.
        # The editor is not entered — SQLite's refuses to open inside a test's transaction —
        # but its execute() runs a statement all the same.
        editor = connection.SchemaEditorClass(connection)
        operation.code(None, editor)
        operation.reverse_code(None, editor)
        return
    with connection.schema_editor() as editor:
        operation.code(None, editor)
    assert target("org_unit", "path") == 321
    with connection.schema_editor() as editor:
        operation.reverse_code(None, editor)
    assert target("org_unit", "path") in (-1, None)  # the default (PostgreSQL 17: NULL)
    with connection.schema_editor() as editor:
        statistics_target("org_unit", "path", 1000).code(None, editor)
