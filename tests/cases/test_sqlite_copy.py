"""Reversing a migration that added a foreign key to ``cases_case`` keeps what SQLite's table copy
would lose: the full-text triggers and the indexes made in SQL (``xinfang.cases.sqlite_copy``)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

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
    # back before 0044, every trigger and index is there but those on the matter root
    assert back == {x for x in before if "matter_root" not in x[2]}
    # and forward again the schema is what it was, so search finds a case registered after
    assert _schema() == before
    case = register_in(jianan, matter="灌溉水渠年久失修")
    assert Case.objects.filter(search_q("水渠年久")).filter(pk=case.pk).exists()
