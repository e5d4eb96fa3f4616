"""The cases reported back to the office that referred them, by jurisdiction and id: the
oversight page's report-backs owed a verification read them off this partial index instead of
testing every case of the scope for a report-back event (140 ms at 200k cases on SQLite,
docs/PERFORMANCE.md, lead23).

Non-atomic: on PostgreSQL the index is built ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0028_fts_merged_by_the_worker"),
    ]

    operations = [
        AddIndexOnline(
            model_name="case",
            index=models.Index(
                condition=models.Q(("reported_back_at__isnull", False)),
                fields=["jurisdiction", "id"], name="case_reported_back",
            ),
        ),
    ]
