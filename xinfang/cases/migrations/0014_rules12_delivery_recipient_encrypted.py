"""The recipient of a delivery (受送达人 — the petitioner, mostly) encrypted at rest like the
petitioner's own name. Existing clear values are encrypted in place; the reverse decrypts them."""

from django.db import migrations, models
from django.db.models.functions import Cast

import xinfang.security.fields

BATCH = 1000


def _raw(Delivery):
    # Cast bypasses EncryptedTextField.from_db_value: the column as stored, clear or token.
    return (Delivery.objects.annotate(raw=Cast("recipient", models.TextField()))
            .order_by("pk").values_list("pk", "raw"))


def encrypt_recipients(apps, schema_editor):
    from xinfang.security.crypto import is_token

    Delivery = apps.get_model("cases", "Delivery")
    rows = [(pk, raw) for pk, raw in _raw(Delivery).iterator() if not is_token(raw)]
    for start in range(0, len(rows), BATCH):
        batch = [Delivery(pk=pk, recipient=(raw or "").strip())  # the field encrypts it
                 for pk, raw in rows[start : start + BATCH]]
        Delivery.objects.bulk_update(batch, ["recipient"])


def decrypt_recipients(apps, schema_editor):
    from xinfang.security.crypto import get_keyring, is_token

    Delivery = apps.get_model("cases", "Delivery")
    rows = [(pk, raw) for pk, raw in _raw(Delivery).iterator() if is_token(raw)]
    if not rows:
        return
    ring = get_keyring()
    table = schema_editor.quote_name(Delivery._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        for pk, token in rows:  # raw SQL: the field would encrypt the clear value again
            cursor.execute(f"UPDATE {table} SET recipient = %s WHERE id = %s",
                           [ring.decrypt(token)[:50], pk])


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0013_match_case_village_received"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="recipient",
            field=xinfang.security.fields.EncryptedTextField(verbose_name="受送达人"),
        ),
        migrations.RunPython(encrypt_recipients, decrypt_recipients),
    ]
