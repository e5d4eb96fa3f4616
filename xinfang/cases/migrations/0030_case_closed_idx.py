"""The cases closed in a period by jurisdiction and closing instant (closed cases only): the
weekly report's batch of provincial cases closed in the week, and its count on the reports page,
read a county's 100,000 cases to find 39 at 1M cases (265 ms; docs/PERFORMANCE.md, lead23).

Non-atomic: on PostgreSQL the index is built ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0029_case_reported_back"),
    ]

    operations = [
        AddIndexOnline(
            model_name="case",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", False)),
                fields=["jurisdiction", "closed_at"], name="case_closed_idx",
            ),
        ),
    ]
