"""SQLite: drop ``case_due_sort_idx`` (0010). ``case_due_order_idx`` (0036) begins with the same
expression, so every plan that sought or walked the deadline alone reads 0036's index instead;
0010's was one more index for every registration, transition and sweep to write
(docs/PERFORMANCE.md, lead27). Reversing the migration builds it again."""

from django.db import migrations

from xinfang.cases.duesort import SQLITE_INDEX_SQL


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS case_due_sort_idx")


def build(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_INDEX_SQL)


class Migration(migrations.Migration):
    dependencies = [("cases", "0036_sqlite_due_order")]

    operations = [migrations.RunPython(drop, build)]
