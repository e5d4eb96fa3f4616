"""``xinfang keys``: creating the key file and rotating keys without losing or changing a value."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from tests.conftest import id_number
from xinfang.audit import services as audit
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Case, Petitioner
from xinfang.cases.services import PetitionerInput
from xinfang.security import crypto
from xinfang.security.crypto import get_keyring

FIELDS = ("name", "id_number", "phone", "address")  # names encrypted too (issue 8)


@pytest.fixture(autouse=True)
def own_key_file(tmp_path, settings):
    """A key file of this test's own: rotation adds keys to it."""
    settings.XINFANG_KEY_FILE = tmp_path / "keys" / "xinfang-keys.json"
    yield settings.XINFANG_KEY_FILE
    crypto.reset_keyring_cache()


@pytest.fixture
def petitioners(jianan, register):
    people = [
        ("张三明", id_number("41102319800101123"), "13812345678", "将官池镇岗朱村3组"),
        ("李秀英", id_number("41102319750505234"), "13998765432", "五女店镇魏庄村1组"),
        ("王小军", id_number("41102319900909345"), "15500001111", "椹涧乡小河村"),
    ]
    for name, number, phone, address in people:
        register(petitioners=[PetitionerInput(name=name, id_number=number, phone=phone,
                                              address=address)])
    return people


def tokens():
    """Every petitioner's stored tokens, read without decrypting."""
    annotations = {f"raw_{f}": Cast(f, TextField()) for f in FIELDS}
    return {
        row["pk"]: [row[f"raw_{f}"] for f in FIELDS]
        for row in Petitioner.objects.annotate(**annotations).values("pk", *annotations)
    }


def key_ids(rows):
    return {token.split(":")[1] for values in rows.values() for token in values if token}


def plain():
    return {p.pk: (p.name, p.id_number, p.phone, p.address, p.name_index, p.id_number_index,
                   p.phone_index) for p in Petitioner.objects.all()}


def test_keys_create_writes_the_key_file_once(own_key_file, capsys):
    call_command("keys", "create")

    assert own_key_file.exists()
    assert "备份" in capsys.readouterr().out
    with pytest.raises(CommandError, match="已存在"):
        call_command("keys", "create")


def test_rotate_reencrypts_every_petitioner_under_a_new_key(petitioners, capsys):
    before_tokens = tokens()
    before = plain()
    assert key_ids(before_tokens) == {"k1"}

    call_command("keys", "rotate", "--batch", "2", "--settle", "0")

    after_tokens = tokens()
    assert key_ids(after_tokens) == {"k2"}
    assert all(a != b for pk in before_tokens for a, b in zip(
        before_tokens[pk], after_tokens[pk], strict=True))
    # the same values, the same blind indexes: lookups by ID number still find the person
    assert plain() == before
    number = petitioners[1][1]
    index = get_keyring().blind_index(number, purpose="id_number")
    assert Petitioner.objects.get(id_number_index=index).name == "李秀英"
    # the old key stays, for older backups
    assert get_keyring().key_ids == ["k1", "k2"]
    assert get_keyring().current_key_id == "k2"
    assert "重新加密 12 个值" in capsys.readouterr().out


def test_rotation_is_audited(petitioners):
    call_command("keys", "rotate", "--settle", "0")

    entries = AuditEntry.objects.filter(action=audit.KEY_ROTATION).order_by("id")
    assert [e.detail["phase"] for e in entries] == ["key_added", "completed"]
    assert entries[1].detail["reencrypted"] == 12
    assert audit.audit_verify().ok


def test_an_interrupted_rotation_resumes_instead_of_adding_another_key(petitioners):
    # given a rotation that added its key and re-encrypted only one row before it stopped
    ring = get_keyring()
    ring.add_key()
    first = Petitioner.objects.order_by("pk").first()
    first.save()  # written again under k2
    assert key_ids(tokens()) == {"k1", "k2"}
    before = plain()

    call_command("keys", "rotate", "--settle", "0")

    assert get_keyring().key_ids == ["k1", "k2"]
    assert key_ids(tokens()) == {"k2"}
    assert plain() == before


def test_rotating_twice_gives_a_third_key_and_loses_nothing(petitioners):
    before = plain()

    call_command("keys", "rotate", "--settle", "0")
    call_command("keys", "rotate", "--settle", "0")

    assert key_ids(tokens()) == {"k3"}
    assert plain() == before


def test_status_counts_values_still_under_old_keys(petitioners, capsys):
    get_keyring().add_key()

    call_command("keys", "status")

    out = capsys.readouterr().out
    assert "当前：k2" in out
    assert "旧密钥下尚有 12 个值" in out


def test_retire_refuses_a_key_still_in_use_and_removes_one_that_is_not(petitioners):
    get_keyring().add_key()
    with pytest.raises(CommandError, match="仍有 12 个值"):
        call_command("keys", "retire", "k1")

    call_command("keys", "rotate", "--no-new-key", "--settle", "0")
    call_command("keys", "retire", "k1")

    assert get_keyring().key_ids == ["k2"]
    assert len(plain()) == 3


def test_rotate_stops_on_a_value_it_cannot_decrypt(petitioners, own_key_file):
    # given a value under a key that is not in the key file
    pk = Petitioner.objects.order_by("pk").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_petitioner SET address = %s WHERE id = %s",
                       ["sm4gcm:k9:" + "A" * 40, pk])
    assert json.loads(own_key_file.read_text())["current_key_id"] == "k1"

    with pytest.raises(CommandError, match="无法重新加密"):
        call_command("keys", "rotate", "--settle", "0")


def test_tokens_kept_in_plain_columns_are_rotated_and_lookalikes_left_alone(petitioners):
    # given a real token stored by hand in a text column (as TOTP secrets are), and a text a
    # user typed that only looks like one
    ring = get_keyring()
    pks = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    lookalike = "sm4gcm:k1:" + "QUJD" * 12
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET matter = %s WHERE id = %s",
                       [ring.encrypt("秘密"), pks[0]])
        cursor.execute("UPDATE cases_case SET matter = %s WHERE id = %s", [lookalike, pks[1]])

    call_command("keys", "rotate", "--settle", "0")
    call_command("keys", "rotate", "--settle", "0")  # not stuck "resuming" on the lookalike

    matters = dict(Case.objects.values_list("pk", "matter"))
    assert matters[pks[0]].startswith("sm4gcm:k3:")
    assert get_keyring().decrypt(matters[pks[0]]) == "秘密"
    assert matters[pks[1]] == lookalike
