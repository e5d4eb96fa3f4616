"""PostgreSQL: every jurisdiction in the statistics of ``cases_case.jurisdiction_id`` (issue 9).

An office's lists name its subtree's units (a county: 230, of which one or a few hold cases).
With the default target only 100 of a province's ~150 jurisdictions were listed as common
values, so each of the 230 ids was estimated as one of the others: 47 % of the province for a
county holding 10 %, and the ledger's capped count chose a sequential scan (93 ms at 1M cases;
38 ms with every jurisdiction listed, a few ms once the table is vacuumed). SQLite keeps no
such histogram. The post_migrate ANALYZE (``cases.dbstats``) reads it at once."""

from django.db import migrations

from xinfang.cases.dbstats import statistics_target

# A province's jurisdictions (counties, districts, the townships with a profile): well under 1000.
TARGET = 1000


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0016_lead10_case_township_state'),
    ]

    operations = [
        statistics_target("cases_case", "jurisdiction_id", TARGET),
    ]
