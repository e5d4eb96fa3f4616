"""Reversing a migration that added a foreign key to ``cases_case`` keeps what SQLite's table copy
would lose: the full-text triggers and the indexes made in SQL (``xinfang.cases.sqlite_copy``)."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from tests.conftest import register_in
from xinfang.cases.models import Case
from xinfang.cases.search import search_q

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's table copy")]


def _schema() -> set[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'cases_case' "
                       "AND type IN ('index', 'trigger') AND sql IS NOT NULL")
        return set(cursor.fetchall())


def test_going_back_before_the_matter_root_and_forward_again_leaves_the_schema_as_it_was(jianan):
    before = _schema()
    assert any(kind == "trigger" for kind, _, _ in before)
    try:
        MigrationExecutor(connection).migrate([("cases", "0043_assignment_unit_cases")])
        back = _schema()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    # back before 0044, every trigger and index is there but those on the matter root, on
    # the open cases' deadline (0046) and of the ended cases (0047)
    assert back == {x for x in before if "matter_root" not in x[2] and "open_due" not in x[2]
                    and x[1] != "case_ended_idx"}
    # and forward again the schema is what it was, so search finds a case registered after
    assert _schema() == before
    case = register_in(jianan, matter="灌溉水渠年久失修")
    assert Case.objects.filter(search_q("水渠年久")).filter(pk=case.pk).exists()


# The tables holding what a copy loses: the search triggers (0011) and the append-only triggers
# of the history (cases 0006) and of the audit trail (audit 0004), a security property.
GUARDED = {"cases_case", "cases_demand", "cases_caseevent", "audit_auditentry"}
# Copies made before those triggers existed, or by the migration that makes them after its copy.
BEFORE_THEM = {("audit", "0002_initial"), ("audit", "0004_audit_sealed"),
               ("cases", "0002_initial"), ("cases", "0005_several_units_and_alert_once"),
               ("cases", "0006_history_sealed"), ("cases", "0006_sweep_marks")}


@pytest.mark.parametrize("backwards", [False, True], ids=["forward", "backwards"])
def test_no_migration_copies_a_guarded_table_without_keeping_what_it_holds(backwards):
    # SQLite alters or takes away many kinds of column by copying the table: a migration that
    # does so to a guarded table must put ``kept_through_copy`` around the field
    unkept = []
    for (app, name), migration in sorted(MigrationLoader(connection).disk_migrations.items()):
        if app not in ("cases", "audit") or (app, name) in BEFORE_THEM:
            continue  # the guarded tables' apps
        out = io.StringIO()
        call_command("sqlmigrate", app, name, backwards=backwards, stdout=out)
        copied = set(re.findall(r'CREATE TABLE "new__(\w+)"', out.getvalue())) & GUARDED
        kept = {getattr(op, "keeps_through_copy", None) for op in migration.operations}
        unkept += [f"{app} {name}: {table}" for table in sorted(copied - kept)]
    assert not unkept, unkept
