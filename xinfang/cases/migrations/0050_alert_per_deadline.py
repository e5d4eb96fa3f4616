"""An alert is raised once per deadline of its clock, not once per clock.

A clock extended after its due-soon or overdue alert (an extension approved late, a holiday
notice loaded or corrected, a pause given back, a profile migrated) ran out again in silence:
the alert's key (case, clock, kind, role) already existed. The key now holds the deadline the
alert was raised for (``Alert.due_at``). The new constraint is made before the old one goes, so
the sweep is never without one.

Clocks that lost their alert that way before this migration are owed it again: a running
clock marked overdue whose last overdue alert was raised before its present deadline (it was
about an earlier one), or marked due soon whose last due-soon alert came before the present
deadline's span began.
"""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone


def owe_the_moved_deadlines_again(apps, schema_editor, now=None):
    Alert = apps.get_model("cases", "Alert")
    Clock = apps.get_model("cases", "Clock")
    running = Clock.objects.filter(status="running", kind="deadline")

    def last(kind):
        return Subquery(Alert.objects.filter(clock=OuterRef("pk"), kind=kind).order_by()
                        .values("clock").annotate(m=Max("created_at")).values("m")[:1])

    stale = (running.filter(overdue_alerted=True).annotate(last=last("overdue"))
             .filter(last__lte=models.F("due_at")))
    # A subquery, not a list of ids: a list may pass SQLite's limit of bound variables.
    Clock.objects.filter(pk__in=stale.values("pk")).update(overdue_alerted=False)
    soon = (running.filter(due_soon_alerted=True, due_at__gt=now or timezone.now())
            .annotate(last=last("due_soon")).values_list("pk", "due_at", "due_soon_hours", "last"))
    owed = [pk for pk, due, hours, at in soon if at is not None and at < due - timedelta(hours=hours)]
    for start in range(0, len(owed), 1000):
        Clock.objects.filter(pk__in=owed[start:start + 1000]).update(due_soon_alerted=False)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0049_case_township_received"),
        ("org", "0005_office_path"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="所提醒的期限"),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(
                fields=("case", "clock", "kind", "role", "due_at"), name="alert_once_per_deadline"
            ),
        ),
        migrations.RemoveConstraint(model_name="alert", name="alert_once_per_clock"),
        migrations.RunPython(owe_the_moved_deadlines_again, migrations.RunPython.noop),
    ]
