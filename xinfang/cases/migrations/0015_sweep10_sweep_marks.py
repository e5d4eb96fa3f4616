"""The sweep's marks move from the cases table (``Case.swept_version``) to a narrow table of
their own: marking a province's open cases updated 100,000 wide rows, each writing every index
of the cases table. A case the sweep had seen at its current version keeps its mark; any other
is owed a pass, as before.

Reversed on SQLite, the column comes back by a copy of the case table: ``kept_through_copy``
keeps the triggers and indexes the copy would lose (lead33)."""

import django.db.models.deletion
from django.db import migrations, models

from xinfang.cases.sqlite_copy import kept_through_copy

KEEP_FIRST, KEEP_LAST = kept_through_copy("cases_case", "swept_version")


def copy_marks(apps, schema_editor):
    connection = schema_editor.connection
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q('cases_sweepmark')} ({q('case_id')}, {q('version')}) "
            f"SELECT {q('id')}, {q('swept_version')} FROM {q('cases_case')} "
            f"WHERE {q('swept_version')} = {q('version')}"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0014_rules12_delivery_recipient_encrypted"),
    ]

    operations = [
        KEEP_FIRST,
        migrations.CreateModel(
            name="SweepMark",
            fields=[
                ("case", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                              primary_key=True, related_name="+",
                                              serialize=False, to="cases.case")),
                ("version", models.PositiveIntegerField()),
            ],
        ),
        migrations.RunPython(copy_marks, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="case",
            name="swept_version",
        ),
        KEEP_LAST,
    ]
