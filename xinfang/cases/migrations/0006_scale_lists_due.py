"""The case's next due instant, kept by the clock engine, filled here from the clocks; and the
indexes the lists sort and filter by."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_several_units_and_alert_once'),
        ('org', '0002_totp_secret_room'),
        ('rules', '0002_pinned_parents_and_pauses'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='next_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='最近截止时间'),
        ),
        migrations.RunSQL(
            # One grouped pass over the clocks (UPDATE … FROM: PostgreSQL, SQLite ≥ 3.33), not a
            # subquery per case, which SQLite without statistics runs as a scan per case.
            """
            UPDATE cases_case SET next_due_at = due.m
            FROM (
                SELECT case_id, MIN(due_at) AS m FROM cases_clock
                WHERE status = 'running' AND kind = 'deadline' GROUP BY case_id
            ) AS due
            WHERE due.case_id = cases_case.id
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['received_at', 'id'], name='case_received_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['registered_at', 'id'], name='case_registered_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['next_due_at'], name='case_next_due_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['state', 'next_due_at'], name='case_state_due_idx'),
        ),
    ]
