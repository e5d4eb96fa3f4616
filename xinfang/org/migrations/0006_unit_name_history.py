"""A unit's names and the days they took effect (``org.UnitName``): a period's tables name a
renamed unit as it was then. Each unit's present name is seeded as the name it had before any
rename recorded (``valid_from`` empty): the renames before this migration were never kept."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def seed_present_names(apps, schema_editor):
    Unit = apps.get_model("org", "Unit")
    UnitName = apps.get_model("org", "UnitName")
    db = schema_editor.connection.alias
    batch = []
    for pk, name in Unit.objects.using(db).order_by("pk").values_list("pk", "name").iterator():
        batch.append(UnitName(unit_id=pk, name=name, valid_from=None))
        if len(batch) == 2000:
            UnitName.objects.using(db).bulk_create(batch)
            batch = []
    UnitName.objects.using(db).bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0005_office_path'),
    ]

    operations = [
        migrations.CreateModel(
            name='UnitName',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='名称')),
                ('valid_from', models.DateField(blank=True, null=True, verbose_name='生效日期')),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='记录时间')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='names', to='org.unit')),
            ],
            options={
                'verbose_name': '单位名称沿革',
                'verbose_name_plural': '单位名称沿革',
                'indexes': [models.Index(fields=['valid_from'], name='unit_name_valid_from')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('valid_from', None)), fields=('unit',), name='unit_name_origin')],
            },
        ),
        migrations.RunPython(seed_present_names, migrations.RunPython.noop),
    ]
