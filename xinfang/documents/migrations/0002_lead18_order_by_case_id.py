"""Ordered by the case's id, not the case: ordering by the relation sorts by the case's own
order (newest registration first), which joined the cases table into every read left in the
model's order. The options only; no SQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_documents_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="issueddocument",
            options={
                "ordering": ["case_id", "issued_at", "id"],
                "verbose_name": "已出具文书",
                "verbose_name_plural": "已出具文书",
            },
        ),
    ]
