"""``dbstats.statistics_target`` and ``dbstats.rows_per_value``: the migrations' per-column
statistics settings (issue 9)."""

import pytest
from django.db import connection

from xinfang.cases.dbstats import rows_per_value, statistics_target

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


def options(table: str, column: str) -> list[str]:
    """The column's ``n_distinct`` options (a server may keep options of its own there)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT attoptions FROM pg_attribute WHERE attrelid = %s::regclass "
                       "AND attname = %s", [table, column])
        return [o for o in cursor.fetchone()[0] or [] if o.startswith("n_distinct")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_the_planner_reads_about_ten_events_to_a_case(jianan, register):
    # 0041: ANALYZE's sample of a long history counted too few cases among its events (101 a case
    # expected at 1M cases, 13 there), and a case's history with its actors joined hashed every
    # user of the province. With the share set, the statistics ANALYZE writes hold a case's
    # events at a tenth of the table, whatever the sample saw (here: 30 cases, an event or two
    # each, which it would count exactly).
    assert options("cases_caseevent", "case_id") == ["n_distinct=-0.1"]
    for n in range(30):
        register(matter=f"反映危房改造补助未到位{n}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_caseevent")
        cursor.execute("SELECT n_distinct FROM pg_stats WHERE tablename = 'cases_caseevent' "
                       "AND attname = 'case_id'")
        assert cursor.fetchone()[0] == pytest.approx(-0.1)


def test_the_share_is_set_and_reset_on_postgresql_and_leaves_sqlite_alone():
    operation = rows_per_value("cases_caseevent", "case_id", 4)
    if connection.vendor != "postgresql":
        editor = connection.SchemaEditorClass(connection)  # as above: nothing may run
        operation.code(None, editor)
        operation.reverse_code(None, editor)
        return
    with connection.schema_editor() as editor:
        operation.code(None, editor)
    assert options("cases_caseevent", "case_id") == ["n_distinct=-0.25"]
    with connection.schema_editor() as editor:
        operation.reverse_code(None, editor)
    assert options("cases_caseevent", "case_id") == []
    with connection.schema_editor() as editor:
        rows_per_value("cases_caseevent", "case_id", 10).code(None, editor)
