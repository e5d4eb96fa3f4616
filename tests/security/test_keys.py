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


# -- passphrase, environment, MAC keys, modes (issue 8) -------------------------------------------

import os  # noqa: E402
import stat  # noqa: E402

from xinfang.audit.services import audit_verify  # noqa: E402
from xinfang.security.crypto import KeyFileError, KeyRing  # noqa: E402

PASSPHRASE = "密钥文件的口令-足够长-2026"


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_key_file_created_with_a_passphrase_holds_no_key_in_the_clear(
        own_key_file, monkeypatch, capsys):
    monkeypatch.setenv("NEW_PASS", PASSPHRASE)
    call_command("keys", "create", "--passphrase-env", "NEW_PASS")
    assert "口令封装" in capsys.readouterr().out

    document = json.loads(own_key_file.read_text())
    assert document["format"] == "xinfang-sealed" and "data_keys" not in document
    assert mode(own_key_file) == 0o600 and mode(own_key_file.parent) == 0o700

    # without the passphrase the keys cannot be had
    crypto.reset_keyring_cache()
    with pytest.raises(KeyFileError, match="XINFANG_KEY_PASSPHRASE"):
        get_keyring()
    monkeypatch.setenv("XINFANG_KEY_PASSPHRASE", PASSPHRASE + "?")
    crypto.reset_keyring_cache()
    with pytest.raises(KeyFileError, match="cannot be unwrapped"):
        get_keyring()

    # with it, it is a key ring like any other — and a rotation keeps it wrapped
    monkeypatch.setenv("XINFANG_KEY_PASSPHRASE", PASSPHRASE)
    crypto.reset_keyring_cache()
    ring = get_keyring()
    token = ring.encrypt("41102319800101123X")
    ring.add_key()
    assert json.loads(own_key_file.read_text())["format"] == "xinfang-sealed"
    assert KeyRing.load(own_key_file, passphrase=PASSPHRASE).decrypt(token) == "41102319800101123X"


def test_wrap_and_unwrap_an_existing_key_file(petitioners, own_key_file, monkeypatch):
    before = plain()
    monkeypatch.setenv("NEW_PASS", PASSPHRASE)

    call_command("keys", "wrap", "--passphrase-env", "NEW_PASS")
    assert "data_keys" not in json.loads(own_key_file.read_text())
    monkeypatch.setenv("XINFANG_KEY_PASSPHRASE", PASSPHRASE)
    crypto.reset_keyring_cache()
    assert plain() == before

    call_command("keys", "unwrap")
    assert "data_keys" in json.loads(own_key_file.read_text())
    monkeypatch.delenv("XINFANG_KEY_PASSPHRASE")
    crypto.reset_keyring_cache()
    assert plain() == before
    assert mode(own_key_file) == 0o600


def test_keys_taken_whole_from_the_environment(db, own_key_file, monkeypatch, capsys, settings):
    call_command("keys", "create", "--print")
    document = capsys.readouterr().out
    assert json.loads(document)["mac_keys"]
    monkeypatch.setenv("XINFANG_KEYS", document)
    settings.XINFANG_KEY_AUTOCREATE = False
    crypto.reset_keyring_cache()

    ring = get_keyring()

    assert ring.path is None and not own_key_file.exists()  # no file written or needed
    assert ring.decrypt(ring.encrypt("13812345678")) == "13812345678"
    audit.audit_record(action=audit.LOGIN, actor_name="容器")
    assert audit_verify().ok
    with pytest.raises(CommandError, match="XINFANG_KEYS"):
        call_command("keys", "rotate-mac")


def test_a_key_document_in_the_environment_without_mac_keys_is_refused(monkeypatch):
    document = json.loads(KeyRing.generate().to_json())
    del document["mac_keys"], document["current_mac_key_id"], document["backup_key"]
    monkeypatch.setenv("XINFANG_KEYS", json.dumps(document))
    crypto.reset_keyring_cache()

    with pytest.raises(KeyFileError, match="no MAC or backup key"):
        get_keyring()


def test_a_key_file_from_before_mac_keys_gains_them_on_load(own_key_file):
    document = json.loads(KeyRing.generate().to_json())
    del document["mac_keys"], document["current_mac_key_id"], document["backup_key"]
    own_key_file.parent.mkdir(mode=0o700)
    own_key_file.write_text(json.dumps(document))
    own_key_file.chmod(0o600)

    ring = get_keyring()

    assert ring.current_mac_key_id == "m1" and ring.backup_key
    saved = json.loads(own_key_file.read_text())
    assert saved["mac_keys"] and saved["data_keys"] == document["data_keys"]


def test_rotate_mac_seals_new_entries_under_the_new_key_and_old_ones_still_verify(db, capsys):
    first = audit.audit_record(action=audit.LOGIN, actor_name="甲")

    call_command("keys", "rotate-mac")

    second = audit.audit_record(action=audit.LOGIN, actor_name="乙")
    assert (first.mac_key_id, second.mac_key_id) == ("m1", "m2")
    assert audit_verify().ok
    assert AuditEntry.objects.filter(action=audit.KEY_ROTATION, object_id="m2").exists()


def test_data_at_rest_is_created_owner_only(db, own_key_file, tmp_path):
    from django.db.utils import ConnectionHandler

    from xinfang.settings.base import sqlite_database

    # the key file
    get_keyring()
    assert mode(own_key_file) == 0o600 and mode(own_key_file.parent) == 0o700

    # a new SQLite database in WAL mode: the database, -wal and -shm files
    path = tmp_path / "fresh" / "xinfang.sqlite3"
    path.parent.mkdir()
    handler = ConnectionHandler({"default": sqlite_database(path)})
    scratch = handler["default"]
    try:
        with scratch.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x)")
            cursor.execute("INSERT INTO t VALUES (1)")
        for suffix in ("", "-wal", "-shm"):
            assert mode(f"{path}{suffix}") == 0o600, suffix
    finally:
        scratch.close()


def test_an_existing_wider_sqlite_file_is_tightened_on_connect(db, tmp_path):
    from django.db.utils import ConnectionHandler

    from xinfang.settings.base import sqlite_database

    path = tmp_path / "old.sqlite3"
    path.touch()
    path.chmod(0o644)
    scratch = ConnectionHandler({"default": sqlite_database(path)})["default"]
    try:
        scratch.ensure_connection()
        assert mode(path) == 0o600
    finally:
        scratch.close()
