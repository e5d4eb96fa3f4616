"""What the trail's list shows of an entry whose detail holds a long list (``brief``).

A nullable column with no default: both databases add it in place (SQLite by ``ALTER TABLE ADD
COLUMN``, so the append-only triggers of 0004 stay). Entries written before have none, and the
list reads their detail as it did; they are not updated (the trail is append-only).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_audit_sealed'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='brief',
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
