"""When the decision letter last reached the petitioner, kept on the case (``reply_delivered_at``,
set by the delivery's effect): the return visits owed are listed oldest reply first, and reading
every candidate case's deliveries to sort them took 0.5 s for a county at 1M cases
(docs/PERFORMANCE.md, lead23).

The existing cases are filled from their deliveries (the latest not refused delivery of a
decision letter), 20,000 cases a transaction, so that no long transaction holds the offices'
writes; then the index the list walks is built (``CONCURRENTLY`` on PostgreSQL). Non-atomic
for both.
"""

from django.db import migrations, models, transaction

from xinfang.cases.online_index import AddIndexOnline

BATCH = 20_000


def fill(apps, schema_editor):
    connection = schema_editor.connection
    q = connection.ops.quote_name
    case, delivery, document = q("cases_case"), q("cases_delivery"), q("cases_document")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {case}")
        low, high = cursor.fetchone()
    if low is None:
        return
    sql = (
        f"UPDATE {case} SET reply_delivered_at = ("
        f" SELECT MAX(d.delivered_at) FROM {delivery} d"
        f" INNER JOIN {document} doc ON doc.id = d.document_id"
        f" WHERE d.case_id = {case}.id AND doc.kind = %s AND NOT d.refused)"
        f" WHERE id >= %s AND id < %s"
        f" AND id IN (SELECT case_id FROM {delivery})"
    )
    for start in range(low, high + 1, BATCH):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(sql, ["decision_letter", start, start + BATCH])
    if connection.vendor == "postgresql":
        # Most cases were written again: their old row versions go now, not at autovacuum's
        # leisure (at 1M cases the owed list's count read 250,000 index entries of them, 3 s).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {case}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0031_case_profile_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="reply_delivered_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="答复送达时间"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        AddIndexOnline(
            model_name="case",
            index=models.Index(fields=["reply_delivered_at", "id"], name="case_reply_delivered"),
        ),
    ]
