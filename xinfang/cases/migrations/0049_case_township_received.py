"""PostgreSQL: a township's cases in the ledger's order, and what its id says of its county.

A county's ledger filtered by township (``?township=14``, with or without a category) gathered
the township's cases through two bitmaps — the township's 6,203 and the county's 100,000 (8 ms
to build) — and sorted them to show fifty: 33 ms for the page and 28 for its count at 1M cases.
PostgreSQL took the township and the county as independent and expected a tenth of the
township's cases in the county, too few to be worth an index walked in order. The statistics
below tell it a township lies in one county (a functional dependency); with them it walks this
index backwards, tests each case's demands and stops at the fiftieth (1.8 ms), and counts the
township's cases off the index alone, the county read from the entry, merged with the
category's demands (10–16 ms). The township's id
is written into the statement (``api.filters``), so that its plan is made for that township.

The statistics are gathered by ``ANALYZE``, run here once; autovacuum keeps them. SQLite
(a county's data, its townships a few hundred cases) plans these lists well without either.
Non-atomic: the index is built ``CONCURRENTLY`` (docs/PERFORMANCE.md, lead49).
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

NAME = "case_township_received"
STATISTICS = "case_township_jurisdiction"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (dependencies) "
                              "ON jurisdiction_id, township_id FROM cases_case")
        schema_editor.execute("ANALYZE cases_case")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0048_case_open_received"),
    ]

    operations = [
        index_by_database(NAME, {"postgresql": (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON cases_case "
            "(township_id, received_at, id) INCLUDE (jurisdiction_id)")}),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
