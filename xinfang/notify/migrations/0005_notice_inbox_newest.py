"""The inbox's index with its tie-break: one unit and role's notices newest first, then by id.
The inbox's window (``selectors._newest_sent``) reads each (unit, role) in that order. Without
the id a plan PostgreSQL kept for the statement walked ``notice_unit_recent`` instead and
filtered a unit's 20,000 notices for a role that had none: 6.8 ms against 0.1 (1M cases,
docs/PERFORMANCE.md, lead35). The new index is built before the old one is dropped, so the
inbox is never without one.

Non-atomic: on PostgreSQL both are done ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("notify", "0004_lead18_covered_indexes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="notice",
            index=models.Index(fields=["unit", "role", "-created_at", "-id"],
                               name="notice_inbox_newest"),
        ),
        RemoveIndexOnline(model_name="notice", name="notice_inbox"),
    ]
