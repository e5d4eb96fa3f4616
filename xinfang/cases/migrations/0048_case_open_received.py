"""PostgreSQL: an office's open cases in the ledger's order (``case_open_received``).

The overdue ledger is an office's open cases whose deadline has passed (``open_due_at``), newest
received first. PostgreSQL walked the province's received index for the busy county's fifty and
dropped 13,861 cases of other offices or not overdue on the way (5 ms at 1M); reading the
office's open cases in that order off this index it drops some 700 (0.8 ms). Its list names its
office as an equality (``Door.scope``, ``probes.named``), which PostgreSQL walks in an index's
order; an array of offices it does not. The deadline is included, so the test reads the entry.

SQLite's door names the county's units, not its offices, and would only write this index: it
has none. Non-atomic: built ``CONCURRENTLY`` (docs/PERFORMANCE.md, lead48).
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

NAME = "case_open_received"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0047_case_ended_idx"),
    ]

    operations = [
        index_by_database(NAME, {"postgresql": (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON cases_case "
            "(jurisdiction_id, received_at, id) INCLUDE (open_due_at) "
            "WHERE open_due_at IS NOT NULL")}),
    ]
