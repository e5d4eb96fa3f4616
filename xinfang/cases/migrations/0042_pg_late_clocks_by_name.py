"""PostgreSQL: the late deadline clocks of a name (``clock_late_by_name``), for a score point
that counts late clocks of some names only (lihai's contact and reply points: ``phone_contact``,
``reply_phone_online``, ``reply_letter_visit``).

Such a point's test (``scoring.sources.late_condition``) names clocks that are rarely late, and
PostgreSQL reads it once for the whole statement: every entry of ``clock_late_or_running``
(0039, by case) filtered by name. At 1M cases that is some 260,000 entries for none found; after
a sweep's first pass, whose alerts update 100,000 clocks and leave their pages not all-visible,
each entry also went to the table (123,318 heap fetches): 114 ms of the county's year of scores,
the page 262 ms. By name first it reads only those names' late clocks: the statement 190 → 45 ms,
the page 105 (docs/PERFORMANCE.md, lead29). The condition is 0039's, so a query whose test
implies one implies the other. SQLite has none, as it has no 0039 (its planner does not take a
partial index whose condition the query binds as parameters).

Non-atomic: built ``CONCURRENTLY`` (1.2 s at 1M cases).
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

NAME = "clock_late_by_name"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0041_pg_events_per_case"),
    ]

    operations = [
        index_by_database(NAME, {"postgresql": (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON cases_clock (name, case_id) "
            "INCLUDE (met, status, due_at) "
            "WHERE kind = 'deadline' AND (NOT met OR status = 'running')")}),
    ]
