"""PostgreSQL: a finer histogram of ``org_unit.path`` (issue 9).

The door for one case tests ``path LIKE '/1/2/4/%'`` (the office's subtree). With the default
statistics target PostgreSQL estimated a county's 230 units at 4 and drove the match lookup's
village statement from the unit list, probing the village's cases once per unit (35–70 ms at
1M cases). A target of 1000 makes the estimate about right. SQLite keeps no such histogram.
The post_migrate ANALYZE (``cases.dbstats``) reads it at once."""

from django.db import migrations

from xinfang.cases.dbstats import statistics_target


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0003_sign_in_flags_secauth'),
    ]

    operations = [
        statistics_target("org_unit", "path", 1000),
    ]
