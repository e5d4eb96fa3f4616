"""An alert's case needs no index of its own: the unique index on (case, clock, kind, role)
leads with it. One index fewer to write for each of a first sweep's alerts (issue 9).
On SQLite the table is rebuilt (its way of altering a column); on PostgreSQL the index is
dropped."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0022_lead16_notice_jurisdiction"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alert",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="alerts",
                to="cases.case",
            ),
        ),
    ]
