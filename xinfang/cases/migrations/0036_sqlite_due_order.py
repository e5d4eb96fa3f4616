"""SQLite: every case in the lists' due order (``queues.ordered``: soonest deadline first, then
newest registered), for a reader whose door is a path (a province's inspector). The county's
lists read their own jurisdiction's part of ``case_queue_idx`` (0020); a province's late list has
no jurisdiction to seek, and ``case_due_sort_idx`` (0010) holds the deadline alone, so SQLite
read every open case of the province off (state, accepted_at) and sorted them for twenty: 38 ms
at 200k cases. Walking this index in order stops at the twentieth (docs/PERFORMANCE.md, lead26).
PostgreSQL reads the (next_due_at) b-tree in order."""

from django.db import migrations

from xinfang.cases.duesort import NO_DEADLINE
from xinfang.cases.sqlite_only import sqlite_index

SQLITE_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS case_due_order_idx "
    f"ON cases_case (COALESCE(next_due_at, '{NO_DEADLINE}'), registered_at DESC, id DESC)"
)


class Migration(migrations.Migration):
    dependencies = [("cases", "0035_sqlite_leader_owned_by_state")]

    operations = [sqlite_index("case_due_order_idx", SQLITE_INDEX_SQL)]
