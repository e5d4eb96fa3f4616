"""The supervision page's open leader-owned cases (领导包案) read off their partial index alone:
the index now includes the case's id (PostgreSQL; on SQLite an index row holds the id as its
rowid, and the index is built as before). Without it PostgreSQL and-ed this index's 378 rows
with a state index's 98,000 open cases of the province to spare the row visits — 8 ms for each
of the page's two reads at 1M, 0.35 ms index-only (docs/PERFORMANCE.md, lead19).

Non-atomic: on PostgreSQL the index is dropped and built ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline, RemoveIndexOnline

OPEN_STATES = ["assigned", "awaiting_countersign", "delivered", "extension_requested",
               "in_progress", "letter_approved", "letter_drafted", "letter_issued", "proposed",
               "registered", "signed_off"]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0025_lead19_covered_field_indexes"),
    ]

    operations = [
        RemoveIndexOnline(model_name="case", name="case_leader_owned_open"),
        AddIndexOnline(
            model_name="case",
            index=models.Index(
                condition=models.Q(("leader_owner__isnull", False), ("state__in", OPEN_STATES)),
                fields=["jurisdiction", "received_at"], include=("id",),
                name="case_leader_owned_open",
            ),
        ),
    ]
