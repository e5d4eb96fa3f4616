"""SQLite: an index on the due sort's expression (``xinfang.cases.duesort``), so "soonest deadline
first, none last" reads a page off the index instead of sorting every case. PostgreSQL sorts
``NULLS LAST`` off the existing ``(next_due_at)`` index and needs nothing."""

from django.db import migrations

from xinfang.cases.duesort import SQLITE_INDEX_SQL


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_INDEX_SQL)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS case_due_sort_idx")


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_merge_sweep_marks")]

    operations = [migrations.RunPython(create, drop)]
