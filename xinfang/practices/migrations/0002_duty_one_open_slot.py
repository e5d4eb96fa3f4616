"""One open reception-duty slot per weekday of a jurisdiction (``duty_one_open_slot``).

Two roster changes for the same weekday at once could each open a slot; ``duty_assign`` now
loses the second to this constraint. Slots left open twice before it are closed first as
``duty_assign`` closes a replaced slot: the day before the next one starts (a slot replaced on
its own first day ends the day before it began, and was never in force). Nothing is deleted."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models


def close_older_open_slots(apps, schema_editor):
    DutySlot = apps.get_model("practices", "DutySlot")
    open_slots = DutySlot.objects.filter(ends_on=None).order_by(
        "jurisdiction_id", "weekday", "starts_on", "created_at", "pk")
    last = {}
    for slot in open_slots:
        key = (slot.jurisdiction_id, slot.weekday)
        older = last.get(key)
        if older is not None:
            older.ends_on = slot.starts_on - timedelta(days=1)
            older.save(update_fields=["ends_on"])
        last[key] = slot


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0005_office_path'),
        ('practices', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(close_older_open_slots, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='dutyslot',
            constraint=models.UniqueConstraint(condition=models.Q(('ends_on__isnull', True)), fields=('jurisdiction', 'weekday'), name='duty_one_open_slot'),
        ),
    ]
