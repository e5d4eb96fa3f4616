"""SQLite: the open leader-owned cases (领导包案) of a reader whose door is a path (a province's
inspector: every case under it), off an index led by the state. Without a jurisdiction to seek,
0021's index was no help and SQLite read every open case of the province off
``case_state_accepted`` to keep the leader-owned ones: 28 ms for the first twenty and 28 for
their count at 200k cases, of a 260 ms supervision page. Here the eleven open states are each one
seek into the few leader-owned cases (docs/PERFORMANCE.md, lead26). PostgreSQL reads them off
``case_leader_owned_open`` (migration 0019)."""

from django.db import migrations

from xinfang.cases.sqlite_only import sqlite_index

SQLITE_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS case_leader_owned_by_state "
    "ON cases_case (state, received_at) WHERE leader_owner_id IS NOT NULL"
)


class Migration(migrations.Migration):
    dependencies = [("cases", "0034_case_jurisdiction_received")]

    operations = [sqlite_index("case_leader_owned_by_state", SQLITE_INDEX_SQL)]
