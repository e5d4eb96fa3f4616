"""SQLite: the county's open leader-owned cases (领导包案, the supervision page) off an index of
their own. PostgreSQL reads them off ``case_leader_owned_open`` (migration 0019), whose
condition names the open states; SQLite preferred the (jurisdiction, state) index for the count
and walked ``case_received_idx`` for the first twenty (45 ms at 200k cases). Here the states
are a column, so the door's jurisdictions and the open states both narrow the index: 0.6–0.7 ms
(docs/PERFORMANCE.md, lead15)."""

from django.db import migrations

from xinfang.cases.sqlite_only import sqlite_index

SQLITE_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS case_leader_owned_state "
    "ON cases_case (jurisdiction_id, state, received_at) WHERE leader_owner_id IS NOT NULL"
)


class Migration(migrations.Migration):
    dependencies = [("cases", "0020_lead15_case_queue_idx")]

    operations = [sqlite_index("case_leader_owned_state", SQLITE_INDEX_SQL)]
