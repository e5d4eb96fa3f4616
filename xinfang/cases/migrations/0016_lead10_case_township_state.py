# The ledger's township + state filter reads its page in order (issue 9, lead10).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0015_sweep10_sweep_marks"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["township", "state", "received_at", "id"],
                               name="case_township_state_recv"),
        ),
    ]
