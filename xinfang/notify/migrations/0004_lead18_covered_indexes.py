"""A notice's unit and history entry need no index of their own: the inbox's two indexes lead
with the unit, and the unique index on (event, unit, role) holds every notice with an entry.
Two indexes fewer to write for each of a first sweep's notices and each transition's (issue
9). On SQLite the table is rebuilt (its way of altering a column); on PostgreSQL the indexes are
dropped."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0023_lead18_covered_indexes"),
        ("notify", "0003_notice_unit_recent"),
        ("org", "0004_lead11_path_statistics"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notice",
            name="event",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.caseevent",
            ),
        ),
        migrations.AlterField(
            model_name="notice",
            name="unit",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.unit",
            ),
        ),
    ]
