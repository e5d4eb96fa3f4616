"""An alert's notice exists once per deadline of its clock, as the alert itself
(``cases`` 0050): the notice of an overdue alert raised again for an extended deadline was
skipped as a repeat of the first. The new constraint is made before the old one goes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0050_alert_per_deadline"),
        ("notify", "0005_notice_inbox_newest"),
    ]

    operations = [
        migrations.AddField(
            model_name="notice",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="notice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("event__isnull", True),
                                   ("kind__in", ["due_soon", "overdue", "warning", "analysis"])),
                fields=("case", "clock", "kind", "role", "due_at"),
                name="notice_once_per_alert_deadline",
            ),
        ),
        migrations.RemoveConstraint(model_name="notice", name="notice_once_per_alert"),
    ]
