"""An office's to-do bucket in the work queue's order: one state of its jurisdiction, soonest
deadline first (the due sort's own expression, ``xinfang.cases.duesort.DueKey``: the column on
PostgreSQL, its COALESCE on SQLite), then newest. At 1M cases on PostgreSQL a clerk's queue
statements took 15 ms of execution without it and 2 ms with it (docs/PERFORMANCE.md, lead15).

Built concurrently on PostgreSQL (``online_index``): a plain build held the cases' writes for
1.4 s at a million cases."""

from django.db import migrations, models

import xinfang.cases.duesort
from xinfang.cases.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds a concurrent index outside a transaction only
    dependencies = [("cases", "0019_sup11_case_leader_owned_open")]

    operations = [
        AddIndexOnline(
            model_name="case",
            index=models.Index(
                models.F("jurisdiction"),
                models.F("state"),
                xinfang.cases.duesort.DueKey(models.F("next_due_at")),
                models.OrderBy(models.F("registered_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="case_queue_idx",
            ),
        ),
    ]
