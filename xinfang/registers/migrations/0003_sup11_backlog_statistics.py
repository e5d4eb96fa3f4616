from django.db import migrations

# The supervision page reads a county's backlog lines by their jurisdiction (the door's subtree,
# a few hundred unit ids of which one or two hold lines): with every jurisdiction in the
# column's common values PostgreSQL estimates the county's lines, not a share of the province's,
# and reads them off the index (see ``figures`` migration 0003).
TARGET = 10000


def statistics(target: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                "ALTER TABLE registers_backlogcase ALTER COLUMN jurisdiction_id "
                f"SET STATISTICS {int(target)}")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("registers", "0002_every_column"),
    ]

    operations = [
        migrations.RunPython(statistics(TARGET), statistics(-1)),
    ]
