"""PostgreSQL: about ten events of history to a case (``cases_caseevent.case_id``).

ANALYZE's sample of a 13M-row history counted 128,791 cases among its events at 1M cases, so the
planner expected 101 events of one case where there are 13. A case's detail reads its history
with each event's actor and unit joined: expecting a hundred rows, PostgreSQL hashed every user
of the province (4,218 rows, 2.1 ms) for a registered case's two events; expecting ten, it looks
each actor up (0.14 ms). ``GET /api/cases/{id}/`` and a transition's full answer 4.3 → 2.5 ms of
SQL (docs/PERFORMANCE.md, lead29). The generated cases hold 13 events on average (an archived one
15, one in handling 8, a registered one 1): ten is of that order. The post_migrate
ANALYZE (``cases.dbstats``) reads it at once."""

from django.db import migrations

from xinfang.cases.dbstats import rows_per_value


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0040_demand_category_case"),
    ]

    operations = [
        rows_per_value("cases_caseevent", "case_id", 10),
    ]
