"""``xinfang backup`` → empty database → ``xinfang restore`` gives back every case, its history,
its petitioners (still decryptable) and its attachment files — and the archive never holds a
plaintext ID number. Archives are encrypted; ``restore --force`` keeps the trail it replaces."""

import gzip
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from tests.conftest import id_number
from xinfang.audit import services as audit
from xinfang.audit.checkpoints import checkpoint_verify, checkpoint_write
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Attachment, Case, CaseEvent, Petitioner
from xinfang.cases.services import PetitionerInput
from xinfang.cases.services.attachments import attachment_add, attachment_open
from xinfang.org.models import User
from xinfang.security import crypto, sealing
from xinfang.security.crypto import get_keyring

pytestmark = pytest.mark.django_db(transaction=True)  # restore commits, as it does in use

NUMBER = id_number("41102319800101123")
PHONE = "13812345678"
ADDRESS = "将官池镇岗朱村3组"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture(autouse=True)
def own_key_file(tmp_path, settings):
    settings.XINFANG_KEY_FILE = tmp_path / "keys" / "xinfang-keys.json"
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    yield
    crypto.reset_keyring_cache()


@pytest.fixture
def installation(jianan, register):
    """Two cases, one with an attachment, a few audit entries; returns what to compare."""
    first = register(petitioners=[PetitionerInput(name="张三明", id_number=NUMBER, phone=PHONE,
                                                  address=ADDRESS)])
    register(petitioners=[PetitionerInput(name="李秀英", id_number=id_number("41102319750505234"),
                                          phone="13998765432", address="五女店镇魏庄村1组")])
    attachment_add(case=first, by=jianan.member("clerk"),
                   upload=SimpleUploadedFile("现场照片.png", PNG))
    audit.audit_record(action=audit.LOGIN, actor=jianan.member("clerk").user, ip="10.1.1.1")
    return snapshot()


def snapshot():
    return {
        "cases": sorted(Case.objects.values_list("pk", "number", "state", "matter")),
        "events": sorted(CaseEvent.objects.values_list("pk", "case_id", "seq", "type", "payload")),
        "petitioners": sorted(
            (p.pk, p.name, p.id_number, p.phone, p.address, p.id_number_index)
            for p in Petitioner.objects.all()
        ),
        "users": sorted(User.objects.values_list("pk", "username", "password")),
        "attachments": sorted(Attachment.objects.values_list("pk", "stored_name", "sha256")),
        "audit": list(AuditEntry.objects.order_by("id").values_list("id", "hash")),
    }


PASSPHRASE = "一段足够长的备份口令-2026"


def decrypted(path: Path, passphrase: str | None = None) -> io.BytesIO:
    """The ``.tar.gz`` inside a sealed archive."""
    plain = io.BytesIO()
    with open(path, "rb") as f:
        sealing.open_stream(f, plain, passphrase=passphrase,
                            keys=dict([get_keyring().backup_key]))
    plain.seek(0)
    return plain


def open_archive(path: Path, passphrase: str | None = None) -> tarfile.TarFile:
    return tarfile.open(fileobj=decrypted(path, passphrase), mode="r:gz")


def archive_bytes(path: Path) -> bytes:
    with open_archive(path) as tar:
        return b"".join(tar.extractfile(m).read() for m in tar if m.isfile())


def empty_the_installation(settings):
    call_command("flush", interactive=False)
    shutil.rmtree(settings.ATTACHMENT_ROOT)


def test_backup_then_restore_into_an_empty_database_gives_everything_back(
        installation, tmp_path, settings):
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))
    empty_the_installation(settings)
    assert not Case.objects.exists() and not AuditEntry.objects.exists()

    call_command("restore", str(out))

    restored = snapshot()
    assert {k: v for k, v in restored.items() if k != "audit"} == {
        k: v for k, v in installation.items() if k != "audit"}
    # the audit chain as it was at backup, then the restore itself chained onto it
    assert restored["audit"][:-1] == installation["audit"]
    assert AuditEntry.objects.order_by("-id").first().action == audit.RESTORE
    assert audit.audit_verify().ok
    # petitioners decrypt and are found by their blind index
    index = get_keyring().blind_index(NUMBER, purpose="id_number")
    assert Petitioner.objects.get(id_number_index=index).address == ADDRESS
    # attachment bytes, checked against their checksum
    with attachment_open(Attachment.objects.get()) as f:
        assert f.read() == PNG


def test_new_rows_after_a_restore_do_not_collide_with_restored_ids(
        installation, tmp_path, settings, register):
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))
    empty_the_installation(settings)
    call_command("restore", str(out))

    case = register(petitioners=[PetitionerInput(name="新来人", phone="13700000000")])

    assert case.pk > max(pk for pk, *_ in installation["cases"])


def test_the_archive_holds_no_plaintext_personal_data(installation, tmp_path):
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))

    content = archive_bytes(out)
    for secret in (NUMBER, PHONE, ADDRESS):
        assert secret.encode("utf-8") not in content
        assert json.dumps(secret).encode("ascii") not in content  # nor \\u-escaped
    assert b"sm4gcm:k1:" in content


def test_the_manifest_names_keys_counts_and_checksums_but_holds_no_key(installation, tmp_path):
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))

    with open_archive(out) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = tar.getnames()
    assert manifest["keys"]["referenced"] == ["k1"]
    assert manifest["counts"]["cases.case"] == 2
    assert manifest["counts"]["cases.petitioner"] == 2
    assert set(manifest["members"]) == set(names) - {"manifest.json"}
    assert "audit" in manifest["migrations"]
    key_file = json.loads(Path(get_keyring().path).read_text())
    for key in [*key_file["data_keys"], *key_file["mac_keys"], key_file["backup_key"]]:
        assert key["key"].encode() not in archive_bytes(out)
    assert AuditEntry.objects.order_by("-id").first().action == audit.BACKUP


def test_restore_refuses_a_database_that_is_not_empty(installation, tmp_path):
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))

    with pytest.raises(CommandError, match="不是空的.*--force"):
        call_command("restore", str(out))


def test_restore_with_force_replaces_what_is_there(installation, tmp_path, register):
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))
    register(petitioners=[PetitionerInput(name="备份之后", phone="13700000000")])

    call_command("restore", str(out), "--force")

    assert snapshot()["cases"] == installation["cases"]
    assert audit.audit_verify().ok


def test_restore_refuses_a_key_file_without_the_keys_the_data_uses(
        installation, tmp_path, settings, monkeypatch):
    monkeypatch.setenv("BACKUP_PASS", PASSPHRASE)
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out), "--passphrase-env", "BACKUP_PASS")
    empty_the_installation(settings)
    settings.XINFANG_KEY_FILE = tmp_path / "other" / "keys.json"  # a fresh, different key file

    with pytest.raises(CommandError, match="密钥 k1 无法解密"):
        call_command("restore", str(out), "--passphrase-env", "BACKUP_PASS")
    assert not Case.objects.exists()


def test_restore_refuses_an_archive_altered_after_backup(installation, tmp_path, settings):
    """A plain archive (the format before encryption, still accepted) altered inside."""
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))
    altered = tmp_path / "altered.tar.gz"
    with open_archive(out) as src, tarfile.open(altered, "w:gz") as dst:
        for member in src:
            body = src.extractfile(member).read()
            if member.name == "data.json":
                body = body.replace("反映危房改造补助未到位".encode(), "已办结无异议".encode())
                member.size = len(body)
            dst.addfile(member, io.BytesIO(body))
    empty_the_installation(settings)

    with pytest.raises(CommandError, match="data.json 校验值不符"):
        call_command("restore", str(altered))
    assert not Case.objects.exists()


def test_text_that_only_looks_like_a_token_does_not_block_a_restore(
        installation, tmp_path, settings, register):
    register(matter="sm4gcm:k7:" + "QUJD" * 12)
    out = tmp_path / "backup.tar.gz"
    call_command("backup", str(out))
    empty_the_installation(settings)

    call_command("restore", str(out))

    assert Case.objects.filter(matter__startswith="sm4gcm:k7:").exists()
    with open_archive(out) as tar:
        assert json.load(tar.extractfile("manifest.json"))["keys"]["referenced"] == ["k1"]


# -- encryption -----------------------------------------------------------------------------------


def test_the_backup_is_encrypted_and_created_owner_only(installation, tmp_path):
    out = tmp_path / "backup.xfbk"
    call_command("backup", str(out))

    raw = out.read_bytes()
    assert raw.startswith(sealing.STREAM_MAGIC)
    assert b"manifest.json" not in raw and b"sm4gcm:" not in raw
    with pytest.raises(tarfile.TarError):
        tarfile.open(out, "r:gz")
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert AuditEntry.objects.order_by("-id").first().detail["sealed_by"] == "backup_key"


def test_a_passphrase_backup_restores_only_with_the_passphrase(
        installation, tmp_path, settings, monkeypatch):
    monkeypatch.setenv("BACKUP_PASS", PASSPHRASE)
    monkeypatch.setenv("WRONG_PASS", PASSPHRASE + "x")
    out = tmp_path / "backup.xfbk"
    call_command("backup", str(out), "--passphrase-env", "BACKUP_PASS")
    empty_the_installation(settings)

    with pytest.raises(CommandError, match="请提供口令"):
        call_command("restore", str(out))
    with pytest.raises(CommandError, match="解密失败"):
        call_command("restore", str(out), "--passphrase-env", "WRONG_PASS")
    call_command("restore", str(out), "--passphrase-env", "BACKUP_PASS")

    assert snapshot()["cases"] == installation["cases"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "append"])
def test_restore_refuses_an_encrypted_archive_altered_or_cut_short(
        installation, tmp_path, settings, damage):
    out = tmp_path / "backup.xfbk"
    call_command("backup", str(out))
    raw = bytearray(out.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0x01
    elif damage == "truncate":
        raw = raw[: len(raw) - 40]
    else:
        raw += b"more"
    out.write_bytes(bytes(raw))
    empty_the_installation(settings)

    with pytest.raises(CommandError, match="无法解密备份文件"):
        call_command("restore", str(out))
    assert not Case.objects.exists()


def test_a_short_or_missing_passphrase_is_refused(installation, tmp_path, monkeypatch):
    monkeypatch.setenv("SHORT_PASS", "short")
    with pytest.raises(CommandError, match="太短"):
        call_command("backup", str(tmp_path / "a.xfbk"), "--passphrase-env", "SHORT_PASS")
    with pytest.raises(CommandError, match="未设置"):
        call_command("backup", str(tmp_path / "b.xfbk"), "--passphrase-env", "NO_SUCH_VAR")


# -- restore --force keeps the trail it replaces --------------------------------------------------


def test_restore_force_archives_the_replaced_trail_and_records_it(
        installation, tmp_path, settings, register):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"
    out = tmp_path / "backup.xfbk"
    call_command("backup", str(out))
    # after the backup: more history and audit entries, and a checkpoint of them
    register(petitioners=[PetitionerInput(name="备份之后", phone="13700000000")])
    audit.audit_record(action=audit.LOGIN, actor_name="备份之后登录")
    checkpoint_write()
    before = snapshot()

    call_command("restore", str(out), "--force")

    # the new trail says what was replaced, and where it was kept
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == audit.RESTORE
    kept = entry.detail["previous_trail"]
    assert kept["audit_count"] == len(before["audit"])
    assert kept["history_count"] == len(before["events"])
    path = settings.AUDIT_ARCHIVE_DIR / kept["file"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    lines = [json.loads(x) for x in gzip.open(path).read().splitlines()]
    assert [x["audit"]["hash"] for x in lines if "audit" in x] == [h for _, h in before["audit"]]
    assert any(x.get("event", {}).get("payload") for x in lines)
    assert any("checkpoints" in x for x in lines)
    # the checkpoints from before the restore no longer count against the smaller database
    assert checkpoint_verify().ok
    call_command("audit", "verify")


def test_restore_refuses_a_key_file_without_the_mac_keys_the_trail_uses(
        installation, tmp_path, settings, monkeypatch):
    monkeypatch.setenv("BACKUP_PASS", PASSPHRASE)
    out = tmp_path / "backup.xfbk"
    call_command("backup", str(out), "--passphrase-env", "BACKUP_PASS")
    with open_archive(out, PASSPHRASE) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["mac_keys"] == ["m1"]
    assert manifest["history"]["ok"] and manifest["history"]["head_mac"]
    # the same data keys, but the MAC keys lost (an old copy of the key file, say)
    document = json.loads(Path(get_keyring().path).read_text())
    document["mac_keys"] = [{**document["mac_keys"][0], "id": "m9"}]
    document["current_mac_key_id"] = "m9"
    other = tmp_path / "other" / "keys.json"
    other.parent.mkdir(mode=0o700)
    other.write_text(json.dumps(document))
    other.chmod(0o600)
    empty_the_installation(settings)
    settings.XINFANG_KEY_FILE = other

    with pytest.raises(CommandError, match="MAC 密钥：m1"):
        call_command("restore", str(out), "--passphrase-env", "BACKUP_PASS")
    assert not Case.objects.exists()


def test_restore_refuses_history_altered_inside_the_archive(installation, tmp_path, settings):
    """Someone with the backup key rewrites an event in data.json and fixes up the checksums:
    the history's MAC chain still refuses it."""
    out = tmp_path / "backup.xfbk"
    call_command("backup", str(out))
    with open_archive(out) as src:
        members = {m.name: (m, src.extractfile(m).read()) for m in src if m.isfile()}
    data = json.loads(members["data.json"][1])
    block = next(b for b in data["models"] if b["model"] == "cases.caseevent")
    type_at = block["fields"].index("type")
    block["rows"][0][type_at] = "forged"
    body = json.dumps(data).encode()
    manifest = json.loads(members["manifest.json"][1])
    manifest["members"]["data.json"] = __import__("hashlib").sha256(body).hexdigest()
    members["data.json"] = (members["data.json"][0], body)
    members["manifest.json"] = (members["manifest.json"][0], json.dumps(manifest).encode())
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w:gz") as dst:
        for member, content in members.values():
            member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    plain.seek(0)
    forged = tmp_path / "forged.xfbk"
    with open(forged, "wb") as f:
        sealing.seal_stream(plain, f, key=get_keyring().backup_key[1], key_id="backup")
    empty_the_installation(settings)

    with pytest.raises(CommandError, match="办理记录与备份时不一致"):
        call_command("restore", str(forged))
    assert not Case.objects.exists()
