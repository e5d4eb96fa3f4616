"""A delivery's recipient (受送达人, the petitioner mostly) is encrypted at rest like the
petitioner's name; the migration encrypts clear values and its reverse decrypts them."""

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import register_in
from tests.web.conftest import walk
from xinfang.cases.models import Delivery
from xinfang.security.crypto import get_keyring, is_token

TABLE = Delivery._meta.db_table


def stored(delivery) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT recipient FROM {TABLE} WHERE id = %s", [delivery.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_recipient_is_stored_encrypted(jianan):
    case = walk(jianan, register_in(jianan), "delivered")
    delivery = Delivery.objects.get(case=case)
    raw = stored(delivery)
    assert is_token(raw) and "张三明" not in raw
    assert delivery.recipient == "张三明"


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_clear_recipients_and_its_reverse_decrypts(jianan):
    case = walk(jianan, register_in(jianan), "delivered")
    delivery = Delivery.objects.get(case=case)
    call_command("migrate", "cases", "0013_match_case_village_received", verbosity=0)
    try:
        assert stored(delivery) == "张三明"
        with connection.cursor() as cursor:  # a row as the old code wrote it
            cursor.execute(f"UPDATE {TABLE} SET recipient = %s WHERE id = %s",
                           ["李四", delivery.pk])
    finally:
        call_command("migrate", verbosity=0)
    raw = stored(delivery)
    assert is_token(raw) and get_keyring().decrypt(raw) == "李四"
    call_command("migrate", "cases", verbosity=0)  # idempotent
    assert stored(delivery) == raw
