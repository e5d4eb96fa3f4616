"""Ordered by the case's id, not the case: ordering by the relation sorts by the case's own
order (newest registration first), which joined the cases table into every read left in the
model's order. The options only; no SQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0023_lead18_covered_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="caseevent",
            options={
                "ordering": ["case_id", "seq"],
                "verbose_name": "办理记录",
                "verbose_name_plural": "办理记录",
            },
        ),
        migrations.AlterModelOptions(
            name="demand",
            options={
                "ordering": ["case_id", "seq"],
                "verbose_name": "诉求",
                "verbose_name_plural": "诉求",
            },
        ),
    ]
