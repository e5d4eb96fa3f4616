"""Two lookups of the trail by index: the reports made, and an object type's entries newest first.

Every case page and API read appends an entry to the trail, so it outgrows every other table
of an office (two million entries in a busy year, lead49). Two readers walked it whole:

- ``audit_report_made``: the reports page says whether this week's batch of the weekly report
  has been made, the first weekly-report entry of the week and the office. In time order among
  every read, 120 ms on every visit at two million entries. A partial index of the report
  entries alone (a few thousand a year), so the reads' appends do not maintain it. Its
  condition is written as the lookup writes it (``Written``: ``IN (…)``): SQLite uses a partial
  index only where the statement holds its condition as written.
- ``audit_object_newest``: the auditor's filter by object type (``ledger``, ``petitioner``…),
  newest first. Walking the trail back from its newest entry for fifty of a rare type took
  140–413 ms; off this index it stops at the fiftieth, and the pager's capped count reads the
  index alone.

Non-atomic: PostgreSQL builds them ``CONCURRENTLY``, so appends to the trail are not held up.
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

REPORTS = "audit_report_made"
REPORTS_ON = f"{REPORTS} ON audit_auditentry (object_id, at) WHERE object_type IN ('report')"
OBJECTS = "audit_object_newest"
OBJECTS_ON = f"{OBJECTS} ON audit_auditentry (object_type, id)"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0005_auditentry_brief"),
    ]

    operations = [
        index_by_database(name, {
            "postgresql": f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {on}",
            "sqlite": f"CREATE INDEX IF NOT EXISTS {on}"})
        for name, on in ((REPORTS, REPORTS_ON), (OBJECTS, OBJECTS_ON))
    ]
