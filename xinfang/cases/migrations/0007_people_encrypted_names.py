"""Petitioners' names encrypted at rest like ID numbers (issue 8), with an exact-match blind index
and a pinyin blind index. Existing clear names are encrypted in place; the reverse decrypts them."""

from django.db import migrations, models
from django.db.models.functions import Cast

import xinfang.security.fields

BATCH = 1000


def _raw_names(Petitioner):
    # Cast bypasses EncryptedTextField.from_db_value: the column as stored, clear or token.
    return (
        Petitioner.objects.annotate(raw=Cast("name", models.TextField()))
        .order_by("pk")
        .values_list("pk", "raw")
    )


def encrypt_names(apps, schema_editor):
    from xinfang.security.crypto import get_keyring, is_token
    from xinfang.security.names import name_index, name_pinyin_index

    Petitioner = apps.get_model("cases", "Petitioner")
    rows = [(pk, raw) for pk, raw in _raw_names(Petitioner).iterator() if not is_token(raw)]
    if not rows:
        return  # a fresh database needs no key file here
    ring = get_keyring()
    for start in range(0, len(rows), BATCH):
        batch = [
            Petitioner(
                pk=pk,
                name=(raw or "").strip(),  # the field encrypts it on the way in
                name_index=name_index(raw, ring=ring),
                name_pinyin_index=name_pinyin_index(raw, ring=ring),
            )
            for pk, raw in rows[start : start + BATCH]
        ]
        Petitioner.objects.bulk_update(batch, ["name", "name_index", "name_pinyin_index"])


def decrypt_names(apps, schema_editor):
    from xinfang.security.crypto import get_keyring, is_token

    Petitioner = apps.get_model("cases", "Petitioner")
    rows = [(pk, raw) for pk, raw in _raw_names(Petitioner).iterator() if is_token(raw)]
    if not rows:
        return
    ring = get_keyring()
    table = schema_editor.quote_name(Petitioner._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        for pk, token in rows:  # raw SQL: the field would encrypt the clear name again
            cursor.execute(f"UPDATE {table} SET name = %s WHERE id = %s", [ring.decrypt(token), pk])


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0006_people_confidential"),
    ]

    operations = [
        migrations.AddField(
            model_name="petitioner",
            name="name_index",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="name_pinyin_index",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="petitioner",
            name="name",
            field=xinfang.security.fields.EncryptedTextField(verbose_name="姓名"),
        ),
        migrations.RunPython(encrypt_names, decrypt_names),
    ]
