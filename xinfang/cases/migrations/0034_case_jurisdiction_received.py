"""An office's cases by the time they were received, carrying what the goals count: the scores
page's goals read a county's year and the year before from the table, 44,000 page visits at 1M
cases (docs/PERFORMANCE.md, lead26).

Non-atomic: on PostgreSQL the index is built ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0033_demand_case_category"),
    ]

    operations = [
        AddIndexOnline(
            model_name="case",
            index=models.Index(
                fields=["jurisdiction", "received_at"],
                name="case_jurisdiction_received",
                include=["id", "state", "source_level", "level_skipping", "collective", "rating",
                         "repeat_count", "repeat_of"],
            ),
        ),
    ]
