from django.db import migrations

from xinfang.cases.dbstats import statistics_target

# The supervision page reads a county's backlog lines by their jurisdiction (the door's subtree,
# a few hundred unit ids of which one or two hold lines): with every jurisdiction in the
# column's common values PostgreSQL estimates the county's lines, not a share of the province's,
# and reads them off the index (see ``figures`` migration 0003).
TARGET = 10000


class Migration(migrations.Migration):

    dependencies = [
        ("registers", "0002_every_column"),
    ]

    operations = [
        statistics_target("registers_backlogcase", "jurisdiction_id", TARGET),
    ]
