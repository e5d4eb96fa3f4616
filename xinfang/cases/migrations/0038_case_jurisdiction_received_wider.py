"""``case_jurisdiction_received`` carries the times a case was registered and closed too: the
goals' backlog (积案存量, the open cases at each month's end of a year and the year before) read a
county's 100,000 cases from the table at 1M, 44,500 page visits (177 ms); off the index alone it
is one pass (docs/PERFORMANCE.md, lead27).

SQLite has no INCLUDE: there the index is built with the included columns as trailing key
columns, under the same name, so its flows and its backlog read the index alone as well (a
county's two years of months 60 → 6 ms at 200k, the backlog 114 → 15 ms).

Non-atomic: on PostgreSQL the index is dropped and built ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline, RemoveIndexOnline

CARRIED = ["state", "source_level", "level_skipping", "collective", "rating", "repeat_count",
           "repeat_of_id", "registered_at", "closed_at"]


def sqlite_keys(apps, schema_editor):
    """On SQLite, the included columns become key columns (the id is the rowid already)."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS case_jurisdiction_received")
        schema_editor.execute(
            "CREATE INDEX case_jurisdiction_received ON cases_case "
            f"(jurisdiction_id, received_at, {', '.join(CARRIED)})")


def sqlite_plain(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS case_jurisdiction_received")
        schema_editor.execute(
            "CREATE INDEX case_jurisdiction_received ON cases_case (jurisdiction_id, received_at)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0037_sqlite_drop_due_sort"),
    ]

    operations = [
        RemoveIndexOnline(model_name="case", name="case_jurisdiction_received"),
        AddIndexOnline(
            model_name="case",
            index=models.Index(
                fields=["jurisdiction", "received_at"],
                name="case_jurisdiction_received",
                include=["id", "state", "source_level", "level_skipping", "collective", "rating",
                         "repeat_count", "repeat_of", "registered_at", "closed_at"],
            ),
        ),
        migrations.RunPython(sqlite_keys, sqlite_plain),
    ]
