"""Each warning notice keeps its case's jurisdiction, indexed with whether it was answered.

The supervision page listed an office's notices as "the notices of the cases in the door's
scope": SQLite ran it by walking every case of the county and probing the notices for each (22
ms a statement at 200,000 cases, twice, with no notice at all). By their own jurisdiction the
notices are one index range (docs/PERFORMANCE.md, lead16). A case never changes jurisdiction,
so the copy cannot go stale."""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = (
    "UPDATE cases_warningnotice SET jurisdiction_id = "
    "(SELECT jurisdiction_id FROM cases_case WHERE cases_case.id = cases_warningnotice.case_id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0021_lead15_sqlite_leader_owned_state"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="warningnotice",
            name="jurisdiction",
            field=models.ForeignKey(
                null=True, db_index=False, on_delete=django.db.models.deletion.PROTECT,
                related_name="+", to="org.unit"),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="warningnotice",
            name="jurisdiction",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="org.unit"),
        ),
        migrations.AddIndex(
            model_name="warningnotice",
            index=models.Index(fields=["jurisdiction", "answered_at"],
                               name="notice_jurisdiction_idx"),
        ),
    ]
