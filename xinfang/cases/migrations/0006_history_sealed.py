"""History sealed with a per-case HMAC chain, and DELETE refused on SQLite too.

On SQLite, adding a column rebuilds the table, which drops its triggers: the UPDATE trigger of
0003 is created again here, with a DELETE trigger beside it. That DELETE trigger lets a row go
only while the connection's ``xinfang_maintenance()`` function says so — Django's own connection
during a flush (the equivalent of PostgreSQL's TRUNCATE, which row triggers do not see) and a
restore; any other client (the ``sqlite3`` shell) does not have the function at all, so its
DELETE fails.
"""

from django.db import migrations, models

TABLE = "cases_caseevent"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL's trigger (0003) refuses UPDATE and DELETE already
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
    schema_editor.execute(f"""
        CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END;
    """)
    schema_editor.execute(f"""
        CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        WHEN xinfang_maintenance() IS NOT 1
        BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END;
    """)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_several_units_and_alert_once'),
    ]

    operations = [
        migrations.AddField(
            model_name='caseevent',
            name='mac',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='mac_key_id',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.RunPython(forwards, backwards),
    ]
