"""The audit trail sealed with HMAC: each entry names the MAC key it was sealed under.

On SQLite, adding a column rebuilds the table, which drops the triggers and the ``prev_hash``
index of 0003: they are created again here, with a DELETE trigger that lets rows go only while
Django's connection is in maintenance (``audit_prune``, a flush, a restore; see
``xinfang/audit/dbguard.py``). Any other client lacks the ``xinfang_maintenance()`` function, so
its DELETE fails.
"""

from django.db import migrations, models

TABLE = "audit_auditentry"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
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
    schema_editor.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_prev_hash_uniq ON {TABLE} (prev_hash)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_append_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='mac_key_id',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.RunPython(forwards, backwards),
    ]
