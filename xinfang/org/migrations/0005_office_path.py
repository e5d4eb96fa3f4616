"""The offices by path (issue 9): ``Unit.offices_under`` reads a door's offices off an index of
the units with a profile (a province's 168 of 37,053), where the path index gave a province's
every unit to a filter (4.6 ms at 1M on PostgreSQL, a scan of the table). A small table: the
index is built in the migration's transaction."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0004_lead11_path_statistics"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="unit",
            index=models.Index(condition=models.Q(("profile_code", ""), _negated=True),
                               fields=["path"], name="unit_office_path",
                               opclasses=["varchar_pattern_ops"]),
        ),
    ]
