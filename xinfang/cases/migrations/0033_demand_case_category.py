"""A demand's case and category together: the ledger's category filter (``EXISTS`` a demand of
the case with the category) read each case's demands from the table, 6,400 cases of a township
for a county clerk's filtered ledger at 1M cases (docs/PERFORMANCE.md, lead25).

Non-atomic: on PostgreSQL the index is built ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0032_case_reply_delivered_at"),
    ]

    operations = [
        AddIndexOnline(
            model_name="demand",
            index=models.Index(fields=["case", "category"], name="demand_case_category"),
        ),
    ]
