"""Search over the matter, the number and the demands through an index — on PostgreSQL only:
trigram (pg_trgm) GIN indexes on the same ``UPPER(…)`` expression Django's ``icontains`` filters
by, so ``?search=`` reads the index instead of every row. A term shorter than three characters
has no trigram and still scans. SQLite keeps the plain scan (see docs/notes/scale-lists.md)."""

from django.db import migrations

INDEXES = [
    ("case_matter_trgm", "cases_case", "matter"),
    ("case_number_trgm", "cases_case", "number"),
    ("demand_text_trgm", "cases_demand", "text"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_scale_lists_due")]

    operations = [migrations.RunPython(create, drop)]
