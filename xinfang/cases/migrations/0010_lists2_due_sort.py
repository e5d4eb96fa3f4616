"""SQLite: an index on the due sort's expression (``xinfang.cases.duesort``), so "soonest deadline
first, none last" reads a page off the index instead of sorting every case. PostgreSQL sorts
``NULLS LAST`` off the existing ``(next_due_at)`` index and needs nothing."""

from django.db import migrations

from xinfang.cases.duesort import SQLITE_INDEX_SQL
from xinfang.cases.sqlite_only import sqlite_index


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_merge_sweep_marks")]

    operations = [sqlite_index("case_due_sort_idx", SQLITE_INDEX_SQL)]
