"""Ordered by the case's id, not the case: ordering by the relation sorts by the case's own
order (newest registration first), which joined the cases table into every read left in the
model's order. The options only; no SQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ownership", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="ownershipitem",
            options={
                "ordering": ["case_id", "position", "pk"],
                "verbose_name": "包案事项",
                "verbose_name_plural": "包案事项",
            },
        ),
    ]
