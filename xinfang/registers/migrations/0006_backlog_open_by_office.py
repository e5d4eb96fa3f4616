"""The open backlog lines of an office's cases by their jurisdiction (``backlog_open_by_office``):
the supervision page counts them (``web.supervision.backlog_in``, capped at 1,001) for the
jurisdictions the reader's door names. Through the jurisdiction's index PostgreSQL read every
line of the county's 6,928 to keep the open ones with a case: 1,497 heap blocks, 2.3 ms of the
page at 1M cases; off this index, 1,001 entries and no heap block (0.16 ms, lead46). SQLite
counts them off ``backlog_register_order`` (0004: the jurisdiction, then the open lines first)
and was not seen to choose this one, so it has none. Built ``CONCURRENTLY`` (non-atomic).
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

NAME = "backlog_open_by_office"
WHERE = "WHERE resolved_at IS NULL AND case_id IS NOT NULL"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("registers", "0005_pg_backlog_open_by_deadline"),
    ]

    operations = [
        index_by_database(NAME, {
            "postgresql": f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON "
                          f"registers_backlogcase (jurisdiction_id) {WHERE}",
        }),
    ]
