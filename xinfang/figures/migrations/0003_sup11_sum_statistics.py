from django.db import migrations

from xinfang.cases.dbstats import statistics_target

# PostgreSQL estimated a county's sums (the jurisdiction ids of its subtree, ``= ANY``) at a
# sixth of the province's rows — most of the subtree's ids are townships and villages without a
# row, but each id not in the statistics' list of common values counts for the average — and
# read the whole table (200,000 cases: 269,141 rows for 2,534, 53–78 ms). With every
# jurisdiction in that list (a province holds far fewer than 10,000) the estimate is the real
# count and the read takes the unique index (2 ms).
TARGET = 10000


class Migration(migrations.Migration):

    dependencies = [
        ("figures", "0002_sup11_owed"),
    ]

    operations = [
        statistics_target("figures_figuresum", "jurisdiction_id", TARGET),
    ]
