"""An office's cases by id (issue 9): an index on (jurisdiction, id) in place of the foreign
key's own index on the jurisdiction alone. PostgreSQL then answers a list's capped count (up to
10,001 ids, less the respondent cases) from the index alone: 30 ms -> 1.7 ms for a county's
ledger at 1M cases. The new index is built before the old one goes; the old one is dropped by
name (an AlterField would make SQLite copy the whole case table for it)."""

import django.db.models.deletion
from django.db import migrations, models


def _jurisdiction(apps):
    Case = apps.get_model("cases", "Case")
    return Case, Case._meta.get_field("jurisdiction")


def drop_key_index(apps, schema_editor):
    Case, field = _jurisdiction(apps)
    for name in schema_editor._constraint_names(Case, [field.column], index=True):
        schema_editor.execute(schema_editor._delete_index_sql(Case, name))


def restore_key_index(apps, schema_editor):
    Case, field = _jurisdiction(apps)
    schema_editor.execute(schema_editor._create_index_sql(Case, fields=[field]))


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0017_lead11_jurisdiction_statistics'),
        ('org', '0003_sign_in_flags_secauth'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['jurisdiction', 'id'], name='case_jurisdiction_id'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='jurisdiction',
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.PROTECT,
                                            related_name='cases', to='org.unit',
                                            verbose_name='受理机关'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_key_index, restore_key_index)],
        ),
    ]
