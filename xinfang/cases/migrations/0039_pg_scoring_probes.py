"""PostgreSQL: the two probes the unit scores (``scoring.points.unit_scores``) make for every
case of the period, each off a small index read alone (docs/PERFORMANCE.md, lead27):

- ``clock_late_or_running``: the "late" point asks whether a case has a deadline clock that
  stopped late or runs past due. The clocks' case index sent each probe to the table for the
  kind, name, met and status of every clock of the case (a county's year at 1M: 22,840 probes,
  11,600 pages read, ~110 ms). The index holds only the deadline clocks that stopped late or
  still run (7 % of them), with what the test reads.
- ``assignment_lead_newest``: a case's lead handling unit (``rates.lead_unit``: the newest lead
  assignment not handed on) was found by reading the case's assignments and sorting them; the
  index holds them in that order with the unit, so the probe reads one entry. The rates' counts
  by unit take the same subquery.

The unit scores of the county's year: 176 → 66–73 ms. SQLite's planner does not take a partial
index whose condition the query states with bound parameters, as Django writes them: there the
indexes would only be written, never read, and it has none (200k: the same scores 32 ms).
Non-atomic: built ``CONCURRENTLY``.
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

LATE = "clock_late_or_running"
LEAD = "assignment_lead_newest"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0038_case_jurisdiction_received_wider"),
    ]

    operations = [
        index_by_database(LATE, {"postgresql": (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {LATE} ON cases_clock (case_id) "
            "INCLUDE (name, met, status, due_at) "
            "WHERE kind = 'deadline' AND (NOT met OR status = 'running')")}),
        index_by_database(LEAD, {"postgresql": (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {LEAD} ON cases_assignment "
            "(case_id, assigned_at DESC, id DESC) INCLUDE (unit_id) "
            "WHERE role = 'lead' AND NOT (status = 'transferred')")}),
    ]
