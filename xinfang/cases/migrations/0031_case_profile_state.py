"""A profile version's cases by state: the versions page and the API count each version's open
and total cases off this index alone (at 1M cases the open count visited 98,000 rows, 215 ms;
docs/PERFORMANCE.md, lead23). It leads with the profile, so the foreign key's own index is
dropped.

Non-atomic: on PostgreSQL the index is built, and the old one dropped, ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline, DropFieldIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0030_case_closed_idx"),
    ]

    operations = [
        AddIndexOnline(
            model_name="case",
            index=models.Index(fields=["profile", "state"], name="case_profile_state"),
        ),
        DropFieldIndex("case", "profile"),
    ]
