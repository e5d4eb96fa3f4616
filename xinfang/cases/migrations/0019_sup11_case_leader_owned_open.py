# A county's open leader-owned cases in the order received (the supervision page, issue 9, sup11).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0018_lead11_jurisdiction_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("leader_owner__isnull", False),
                    ("state__in", ["assigned", "awaiting_countersign", "delivered",
                                   "extension_requested", "in_progress", "letter_approved",
                                   "letter_drafted", "letter_issued", "proposed", "registered",
                                   "signed_off"]),
                ),
                fields=["jurisdiction", "received_at"], name="case_leader_owned_open"),
        ),
    ]
