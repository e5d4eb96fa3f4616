"""PostgreSQL: the open backlog lines in the supervision page's order (``backlog_open_by_deadline``:
the soonest deadline first, lines without one last, then as entered).

``backlog_register_order`` (0004) leads with the jurisdiction, which serves one office's register.
The supervision page of a wide reader lists the open lines of many jurisdictions at once (the
province's 168 offices, as one array); PostgreSQL could not walk 168 ranges in one order, so it
read and sorted every open line of the province for twenty: after a sweep's first pass 48,583
lines, sorted on disk (6.6 MB), 38 ms of the province inspector's quarter (168 → 147 ms at 1M,
docs/PERFORMANCE.md, lead29). In this order it reads lines until it has twenty of the reader's.
SQLite's index cannot put empty deadlines last (its CREATE INDEX has no NULLS LAST), so it has
none.

Non-atomic: built ``CONCURRENTLY``.
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

NAME = "backlog_open_by_deadline"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("registers", "0004_scale9_backlog_order"),
    ]

    operations = [
        index_by_database(NAME, {"postgresql": (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON registers_backlogcase "
            "(plan_deadline NULLS LAST, id) WHERE resolved_at IS NULL")}),
    ]
