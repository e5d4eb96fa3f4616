"""Indexes that a composite index leading with the same column already serves (issue 9): a
case's insert wrote 30 indexes, a history entry three, a demand and a petitioner link three
each, a person nine. Dropped here:

- the foreign keys' own indexes of the history, the demands and the petitioner links (each
  table's unique (case, …) index leads with the case), and of an assignment's unit ((unit,
  status));
- the case's state (case_state_due_idx, case_state_accepted), township ((township, village),
  case_township_state_recv) and village (case_village_received);
- on PostgreSQL, the ``varchar_pattern_ops`` twins of the case number and of a person's four
  blind indexes: they serve ``LIKE 'x%'``, which no query runs on these columns (the number is
  searched through its trigram and bigram indexes, a blind index only by equality).

Non-atomic: PostgreSQL drops each index ``CONCURRENTLY``, taking no lock that holds the
offices' writes. SQLite drops the index without rebuilding the table.
"""

from django.db import migrations

from xinfang.cases.online_index import DropFieldIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0024_lead18_order_by_case_id"),
    ]

    operations = [
        DropFieldIndex("caseevent", "case"),
        DropFieldIndex("demand", "case"),
        DropFieldIndex("casepetitioner", "case"),
        DropFieldIndex("assignment", "unit"),
        DropFieldIndex("case", "state"),
        DropFieldIndex("case", "township"),
        DropFieldIndex("case", "village"),
        DropFieldIndex("case", "number", like_only=True),
        DropFieldIndex("petitioner", "name_index", like_only=True),
        DropFieldIndex("petitioner", "name_pinyin_index", like_only=True),
        DropFieldIndex("petitioner", "id_number_index", like_only=True),
        DropFieldIndex("petitioner", "phone_index", like_only=True),
    ]
