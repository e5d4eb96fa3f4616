"""The people a handling unit's copy of an instrument shows in clear, kept when it is frozen: a
person who asks for confidentiality afterwards is not read from that copy (issue 8's rule for the
frozen documents). Rows frozen before keep None: not known, so not trusted."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_lead18_order_by_case_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="issueddocument",
            name="unit_clear",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
