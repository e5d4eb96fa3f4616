"""Migration 0022 fills each existing warning notice's jurisdiction from its case."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.conftest import register_in

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("cases", "0021_lead15_sqlite_leader_owned_state")]


def test_the_migration_copies_each_notices_case_jurisdiction(jianan):
    case = register_in(jianan)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_warningnotice (case_id, rule, reasons, to_roles, cc_roles, "
                "issued_at, cause, measures) VALUES (%s, 'repeat', '[]', '[]', '[]', %s, '', '')",
                [case.pk, timezone.now()])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())  # every app back at its newest
    from xinfang.cases.models import WarningNotice

    notice = WarningNotice.objects.get(case=case)
    assert notice.jurisdiction_id == case.jurisdiction_id
