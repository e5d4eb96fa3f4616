"""``xinfang backup`` / ``xinfang restore``: everything of an installation in one archive.

The archive is a ``.tar.gz`` sealed with SM4-GCM (``xinfang/security/sealing.py``): under a
passphrase the operator supplies (``--passphrase-env VAR``) or, by default, under the key file's
backup key. Restore decrypts (refusing any change, a cut-off end or a wrong key), then checks as
below. The sealed ``.tar.gz`` holds:

- ``data.json`` — every row of every xinfang model (plus Django's groups), column by column,
  primary keys kept. Encrypted columns are written as the stored ``sm4gcm:…`` tokens, never
  decrypted: a backup is no more readable than the database. References to permissions and
  content types are written by natural key, since their ids differ between databases.
- ``attachments/<year>/<name>`` — every attachment file, checked against its recorded SHA-256.
- ``manifest.json`` — format and version, creation time, the applied migrations per app, row counts
  per model, the SHA-256 of every other member, the key ids the tokens use, a fingerprint of the
  blind-index key and of the key file, and the head of the audit chain. Not the keys themselves:
  the key file is backed up separately and kept apart from the archives.

``restore`` goes into an empty database at the same migration state (``--force`` clears one that is
not empty). It checks everything before writing anything: member checksums, row counts, that the
configured key file decrypts a value under every key id used, and that its blind-index key is the
one the indexes were computed with. Rows are then inserted as stored, sequences are reset
(PostgreSQL), the audit chain is verified to end on the same head as at backup, and the attachment
files are moved into place.

``restore --force`` replaces a database that is in use: its audit trail, case history and the
checkpoint file's content are first written to a trail archive (``AUDIT_ARCHIVE_DIR``, gzip JSON
lines, 0600), whose name and SHA-256 the new trail's ``restore`` entry records; a signed *restore*
line is appended to the checkpoint file. Nothing of the previous trail is lost.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.duration import duration_iso_string

from xinfang.security import crypto, sealing
from xinfang.security.crypto import DecryptionError, get_keyring
from xinfang.security.fields import EncryptedTextField

from . import checkpoints, dbguard, history, trail
from . import services as audit

FORMAT = "xinfang-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATA = "data.json"
ATTACHMENTS = "attachments/"
_ATTACHMENT_MEMBER = re.compile(r"^attachments/(\d{4}/[0-9a-f]{32})$")
_NATURAL = {"auth.permission", "contenttypes.contenttype"}
_FINGERPRINT_VALUE = "xinfang-backup-fingerprint"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup that cannot be written, or an archive that cannot be restored; says why."""


# -- what is backed up -----------------------------------------------------------------------------


def backup_models() -> list[type[models.Model]]:
    chosen: list[type[models.Model]] = []
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        ours = opts.app_config.name.startswith("xinfang.") or opts.label_lower == "auth.group"
        through_of_ours = bool(opts.auto_created) and opts.auto_created in chosen
        if ours or through_of_ours:
            chosen.append(model)
    return chosen


def _fields(model: type[models.Model]) -> list[models.Field]:
    # A generated column (``Case.open_due_at``) is the database's to compute: neither kept in
    # the archive nor written back.
    return [f for f in model._meta.local_concrete_fields if not f.generated]


def _migration_state(labels: Iterable[str]) -> dict[str, list[str]]:
    applied = MigrationRecorder(connection).applied_migrations()
    wanted = set(labels)
    state: dict[str, list[str]] = {label: [] for label in sorted(wanted)}
    for app, name in applied:
        if app in wanted:
            state[app].append(name)
    return {app: sorted(names) for app, names in state.items()}


def _index_fingerprint(ring: crypto.KeyRing) -> str:
    return ring.blind_index(_FINGERPRINT_VALUE, purpose="backup_fingerprint")


def _key_file_sha256(ring: crypto.KeyRing) -> str:
    if ring.path is None or not ring.path.exists():
        return ""
    return hashlib.sha256(ring.path.read_bytes()).hexdigest()


# -- encoding values -------------------------------------------------------------------------------


class _Natural:
    """Ids of permissions and content types ↔ their natural keys."""

    def __init__(self) -> None:
        self._to_key: dict[str, dict[Any, list]] = {}
        self._to_id: dict[tuple, Any] = {}

    def key(self, model: type[models.Model], pk: Any) -> list:
        label = model._meta.label_lower
        if label not in self._to_key:
            self._to_key[label] = {
                obj.pk: list(obj.natural_key()) for obj in model._base_manager.all()
            }
        return self._to_key[label][pk]

    def id(self, model: type[models.Model], key: list) -> Any:
        cache_key = (model._meta.label_lower, *key)
        if cache_key not in self._to_id:
            try:
                self._to_id[cache_key] = model._base_manager.get_by_natural_key(*key).pk
            except model.DoesNotExist:
                raise BackupError(
                    f"本库中没有 {model._meta.label} {key}：请先在同一版本上运行 migrate。"
                ) from None
        return self._to_id[cache_key]


def _natural_model(field: models.Field) -> type[models.Model] | None:
    if field.is_relation and field.related_model is not None:
        if field.related_model._meta.label_lower in _NATURAL:
            return field.related_model
    return None


def _encode(field: models.Field, value: Any, natural: _Natural) -> Any:
    if value is None:
        return None
    target = _natural_model(field)
    if target is not None:
        return natural.key(target, value)
    if isinstance(field, models.JSONField):
        return value
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_iso_string(value)
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(field: models.Field, value: Any, natural: _Natural) -> Any:
    """The value as the database driver takes it for an INSERT."""
    if value is None:
        return None
    target = _natural_model(field)
    if target is not None:
        return natural.id(target, value)
    if isinstance(field, EncryptedTextField):
        return value  # the stored token, as it was: never through get_prep_value (it encrypts)
    if isinstance(field, models.JSONField):
        return field.get_db_prep_save(value, connection)
    return field.get_db_prep_save(field.to_python(value), connection)


def _rows(model: type[models.Model]) -> Iterator[tuple]:
    """Every row, primary-key order, with encrypted columns as their raw tokens."""
    names: list[str] = []
    raw: dict[str, Cast] = {}
    for field in _fields(model):
        if isinstance(field, EncryptedTextField):
            alias = f"xf_raw_{field.attname}"
            raw[alias] = Cast(field.attname, models.TextField())
            names.append(alias)
        else:
            names.append(field.attname)
    qs = model._base_manager.order_by("pk")
    if raw:
        qs = qs.annotate(**raw)
    yield from qs.values_list(*names).iterator(chunk_size=2000)


# -- writing ---------------------------------------------------------------------------------------


class _HashingWriter(io.RawIOBase):
    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.f.write(b)
        self.digest.update(b)
        self.size += len(b)
        return len(b)


def backup_create(out: str | os.PathLike[str], *, actor_name: str = "",
                  passphrase: str | None = None) -> dict:
    """Write the sealed archive to ``out`` (refusing to overwrite); returns the manifest. Sealed
    under ``passphrase`` if given, else under the key file's backup key."""
    out = Path(out)
    if out.exists():
        raise BackupError(f"{out} 已存在，拒绝覆盖。")
    ring = _keyring()
    chosen = backup_models()
    natural = _Natural()
    created_at = timezone.now()
    with tempfile.TemporaryDirectory(prefix="xinfang-backup-") as work:
        data_path = Path(work) / DATA
        with transaction.atomic():
            _snapshot()
            counts, samples = _write_data(data_path, chosen, natural, ring)
            attachments = _attachment_rows()
            chain = audit.audit_verify()
            events = history.history_verify()
            mac_keys = _mac_keys_used()
            migrations = _migration_state({m._meta.app_label for m in chosen})
        unreadable = {k for k, token in samples.items() if not _decrypts(ring, token)}
        members: dict[str, str] = {DATA: _sha256_file(data_path)}
        files: list[tuple[str, Path]] = []
        for stored_name, sha in attachments:
            path = Path(settings.ATTACHMENT_ROOT) / stored_name
            if not path.exists():
                raise BackupError(f"附件文件 {stored_name} 不存在，备份中止。")
            if _sha256_file(path) != sha:
                raise BackupError(f"附件文件 {stored_name} 的校验值与记录不符，备份中止。")
            members[ATTACHMENTS + stored_name] = sha
            files.append((ATTACHMENTS + stored_name, path))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": created_at.astimezone(UTC).isoformat(),
            "database": connection.vendor,
            "migrations": migrations,
            "counts": counts,
            "members": members,
            "keys": {
                "referenced": sorted(samples),
                # One stored token per key id: restore decrypts each with the key file it is
                # given, which proves it holds the very keys, not just keys of the same names.
                "samples": {k: t for k, t in samples.items() if k not in unreadable},
                # Already undecryptable here (a key missing from the file): no key file can help.
                "unreadable_at_backup": sorted(unreadable),
                "current_at_backup": ring.current_key_id,
                "index_fingerprint": _index_fingerprint(ring),
                "key_file_sha256": _key_file_sha256(ring),
            },
            "audit": {"ok": chain.ok, "checked": chain.checked, "head": chain.head_hash,
                      "first_bad_id": chain.first_bad_id},
            "history": {"ok": events.ok, "checked": events.checked, "head_id": events.head_id,
                        "head_mac": events.head_mac, "first_bad_id": events.first_bad_id},
            "mac_keys": mac_keys,
        }
        plain = Path(work) / "archive.tar.gz"
        _write_archive(plain, manifest, [(DATA, data_path), *files], created_at)
        sealed_by = _seal(plain, out, ring, passphrase)
    archive_sha = _sha256_file(out)
    audit.audit_record(
        action=audit.BACKUP, actor_name=actor_name, object_type="backup", object_id=out.name,
        detail={"sha256": archive_sha, "rows": sum(counts.values()),
                "attachments": len(files), "keys": sorted(samples), "sealed_by": sealed_by},
    )
    return manifest


def _mac_keys_used() -> list[str]:
    from xinfang.cases.models import CaseEvent

    used = set(audit.AuditEntry.objects.values_list("mac_key_id", flat=True).distinct())
    used |= set(CaseEvent.objects.values_list("mac_key_id", flat=True).distinct())
    return sorted(k for k in used if k)


def _snapshot() -> None:
    # One consistent view for the whole dump (PostgreSQL; SQLite's transaction already is one).
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _write_data(path: Path, chosen: list[type[models.Model]], natural: _Natural,
                ring: crypto.KeyRing) -> tuple[dict[str, int], dict[str, str]]:
    """Write ``data.json``; return the row counts and one sample token per key id used."""
    counts: dict[str, int] = {}
    samples: dict[str, str] = {}
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'{{"format": "{FORMAT}", "version": {VERSION}, "models": [\n')
        for i, model in enumerate(chosen):
            fields = _fields(model)
            header = {"model": model._meta.label_lower, "table": model._meta.db_table,
                      "fields": [field.attname for field in fields]}
            f.write(("," if i else "") + json.dumps(header, ensure_ascii=False)[:-1]
                    + ', "rows": [\n')
            n = 0
            for row in _rows(model):
                encoded = []
                for field, value in zip(fields, row, strict=True):
                    value = _encode(field, value, natural)
                    if crypto.is_token(value) and _is_ours(field, value, ring):
                        samples.setdefault(value.split(":", 2)[1], value)
                    encoded.append(value)
                f.write(("," if n else "") + json.dumps(encoded, ensure_ascii=False) + "\n")
                n += 1
            f.write("]}\n")
            counts[model._meta.label_lower] = n
        f.write("]}\n")
    return counts, samples


def _is_ours(field: models.Field, token: str, ring: crypto.KeyRing) -> bool:
    # In an encrypted column every value is a token. Elsewhere (a TOTP secret kept as a token in a
    # plain column) only what decrypts counts: text a user typed may merely look like a token.
    return isinstance(field, EncryptedTextField) or _decrypts(ring, token)


def _decrypts(ring: crypto.KeyRing, token: str) -> bool:
    try:
        ring.decrypt(token)
    except DecryptionError:
        return False
    return True


def _keyring() -> crypto.KeyRing:
    try:
        return get_keyring()
    except (ImproperlyConfigured, crypto.KeyFileError) as e:
        raise BackupError(f"无法读取密钥文件：{e}") from e


def _attachment_rows() -> list[tuple[str, str]]:
    from xinfang.cases.models import Attachment

    return list(Attachment.objects.order_by("pk").values_list("stored_name", "sha256"))


def _seal(plain: Path, out: Path, ring: crypto.KeyRing, passphrase: str | None) -> str:
    """Encrypt ``plain`` into ``out`` (0600, never replacing a file); says under what."""
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".backup-", dir=out.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as sink, open(plain, "rb") as source:
            if passphrase:
                sealing.seal_stream(source, sink, passphrase=passphrase)
            else:
                key_id, key = _backup_key(ring)
                sealing.seal_stream(source, sink, key=key, key_id=key_id)
            sink.flush()
            os.fsync(sink.fileno())
        os.link(tmp, out)  # never replaces a file that appeared meanwhile
    finally:
        os.unlink(tmp)
    return "passphrase" if passphrase else "backup_key"


def _backup_key(ring: crypto.KeyRing) -> tuple[str, bytes]:
    try:
        return ring.backup_key
    except crypto.KeyFileError as e:
        raise BackupError(f"密钥文件中没有备份密钥：{e}；请用 --passphrase-env 提供口令。") from e


def _write_archive(out: Path, manifest: dict, files: list[tuple[str, Path]],
                   created_at: datetime) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".backup-", dir=out.parent)  # 0600: hashes, tokens
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, path in files:
                info = tar.gettarinfo(str(path), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            body = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, int(created_at.timestamp())
            tar.addfile(info, io.BytesIO(body))
        os.link(tmp, out)  # never replaces a file that appeared meanwhile
    finally:
        os.unlink(tmp)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- restoring -------------------------------------------------------------------------------------


def backup_decrypt(archive: Path, out: Path, *, ring: crypto.KeyRing,
                   passphrase: str | None = None) -> bool:
    """Decrypt a sealed archive into ``out``; returns ``False`` (copying nothing) if ``archive``
    is a plain ``.tar.gz`` from before backups were encrypted."""
    with open(archive, "rb") as source:
        if not sealing.is_sealed_stream(source.read(len(sealing.STREAM_MAGIC))):
            return False
        source.seek(0)
        try:
            keys = dict([ring.backup_key])
        except crypto.KeyFileError:
            keys = {}  # a passphrase is then the only way in
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as sink:
            try:
                sealing.open_stream(source, sink, passphrase=passphrase, keys=keys)
            except sealing.SealError as e:
                raise BackupError(f"无法解密备份文件：{e}") from e
    return True


def backup_restore(archive: str | os.PathLike[str], *, force: bool = False,
                   actor_name: str = "", passphrase: str | None = None) -> dict:
    """Restore ``archive`` into this database. Returns the manifest (with ``"sealed"`` false for
    a plain archive from before backups were encrypted)."""
    archive = Path(archive)
    if not archive.exists():
        raise BackupError(f"找不到备份文件 {archive}。")
    chosen = {m._meta.label_lower: m for m in backup_models()}
    root = Path(settings.ATTACHMENT_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=root))
    try:
        ring = _keyring()
        plain = staging / "archive.tar.gz"
        sealed = backup_decrypt(archive, plain, ring=ring, passphrase=passphrase)
        with tarfile.open(plain if sealed else archive, mode="r:gz") as tar:
            manifest = _read_manifest(tar)
            _check_migrations(manifest, chosen)
            _check_key_ring(manifest, ring)
            data_path = staging / DATA
            staged = _extract(tar, manifest, staging, data_path)
        with open(data_path, encoding="utf-8") as f:
            data = json.load(f)
        _check_data(data, manifest, chosen)

        with transaction.atomic():
            non_empty = [label for label, model in chosen.items()
                         if model._base_manager.exists()]
            if non_empty and not force:
                raise BackupError(
                    "目标数据库不是空的（" + "、".join(non_empty[:5])
                    + (" 等" if len(non_empty) > 5 else "") + " 已有数据）。"
                    "恢复会覆盖现有全部业务数据；确需如此请加 --force。"
                )
            previous = None
            if non_empty:
                previous = trail.archive_trail(reason=f"restore --force {archive.name}")
                _clear(chosen.values())
            _insert_all(data, chosen)
            _reset_sequences(chosen.values())
            chain = audit.audit_verify()
            expected = manifest.get("audit", {})
            if expected.get("ok") and (not chain.ok or chain.head_hash != expected.get("head")):
                raise BackupError(f"恢复后的审计链与备份时不一致：{chain.message}")
            expected = manifest.get("history", {})
            if expected.get("ok"):
                events = history.history_verify()
                if not events.ok or events.head_mac != expected.get("head_mac"):
                    raise BackupError(f"恢复后的办理记录与备份时不一致：{events.message}")
            _move_into_place(staged, root)
        detail = {"created_at": manifest["created_at"], "rows": sum(manifest["counts"].values()),
                  "attachments": len(staged), "forced": bool(non_empty), "sealed": sealed}
        if previous is not None:
            detail["previous_trail"] = previous
        audit.audit_record(action=audit.RESTORE, actor_name=actor_name, object_type="backup",
                           object_id=archive.name, detail=detail)
        # What the checkpoints said so far describes the replaced database: start afresh,
        # signed, in the same (append-only) file.
        checkpoints.checkpoint_write(kind=checkpoints.RESTORE, note={
            "archive": archive.name,
            "previous_trail": previous["file"] if previous else "",
            "previous_trail_sha256": previous["sha256"] if previous else "",
        })
        manifest["sealed"] = sealed
        manifest["previous_trail"] = previous
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError("备份文件中没有 manifest.json：不是 xinfang 备份或已损坏。") from None
    f = tar.extractfile(member)
    if f is None:
        raise BackupError("manifest.json 不是普通文件。")
    try:
        manifest = json.loads(f.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BackupError(f"manifest.json 已损坏：{e}") from e
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(
            f"不支持的备份格式：{manifest.get('format')} v{manifest.get('version')}。")
    return manifest


def _check_migrations(manifest: dict, chosen: dict[str, type[models.Model]]) -> None:
    recorded: dict[str, list[str]] = manifest.get("migrations", {})
    here = _migration_state(recorded)
    differing = [app for app in recorded if sorted(recorded[app]) != here.get(app, [])]
    if differing:
        details = "；".join(
            f"{app}：备份 {', '.join(recorded[app][-1:]) or '无'}，本库 "
            f"{', '.join(here.get(app, [])[-1:]) or '无'}" for app in differing
        )
        raise BackupError(
            f"数据库结构与备份时不同（{details}）。请用与备份时相同版本的程序、"
            "迁移到相同状态后再恢复，恢复后再升级。"
        )


def _check_key_ring(manifest: dict, ring: crypto.KeyRing) -> None:
    keys = manifest.get("keys", {})
    unreadable = set(keys.get("unreadable_at_backup", []))
    missing = [k for k in keys.get("referenced", [])
               if k not in ring.key_ids and k not in unreadable]
    if missing:
        raise BackupError(
            f"当前密钥文件（{ring.path}）缺少备份数据所用的密钥：{'、'.join(missing)}。"
            "请把 XINFANG_KEY_FILE 指向备份时使用的密钥文件（或其后续版本）。"
        )
    for key_id, token in keys.get("samples", {}).items():
        try:
            ring.decrypt(token)
        except DecryptionError as e:
            raise BackupError(
                f"当前密钥文件中的密钥 {key_id} 无法解密备份中的数据：同名但不是备份时的那把密钥。"
                "请使用备份时的密钥文件。"
            ) from e
    missing_macs = [k for k in manifest.get("mac_keys", []) if k not in ring.mac_key_ids]
    if missing_macs:
        raise BackupError(
            f"当前密钥文件缺少审计记录和办理记录所用的 MAC 密钥：{'、'.join(missing_macs)}；"
            "恢复后将无法校验。请使用备份时的密钥文件（或其后续版本）。"
        )
    if keys.get("index_fingerprint") != _index_fingerprint(ring):
        raise BackupError(
            "当前密钥文件的检索索引密钥与备份时不同：恢复后将无法按身份证号、电话查找。"
            "请使用备份时的密钥文件。"
        )


def _extract(tar: tarfile.TarFile, manifest: dict, staging: Path, data_path: Path,
             ) -> dict[str, Path]:
    """Copy members out (never ``extractall``: names are checked, nothing outside ``staging``),
    verifying each checksum. Returns attachments as stored name → staged file."""
    expected: dict[str, str] = manifest.get("members", {})
    seen: set[str] = set()
    staged: dict[str, Path] = {}
    for member in tar:
        name = member.name
        if name == MANIFEST:
            continue
        if name not in expected:
            raise BackupError(f"备份文件含有清单之外的成员 {name!r}，拒绝恢复。")
        if not member.isfile():
            raise BackupError(f"备份成员 {name!r} 不是普通文件，拒绝恢复。")
        if name == DATA:
            target = data_path
        else:
            match = _ATTACHMENT_MEMBER.match(name)
            if match is None:
                raise BackupError(f"备份成员名 {name!r} 不合规，拒绝恢复。")
            target = staging / uuid.uuid4().hex
            staged[match.group(1)] = target
        source = tar.extractfile(member)
        assert source is not None
        with open(target, "xb") as out:
            writer = _HashingWriter(out)
            shutil.copyfileobj(source, writer, _CHUNK)
        if writer.digest.hexdigest() != expected[name]:
            raise BackupError(f"备份成员 {name} 校验值不符：备份文件已损坏或被改动。")
        seen.add(name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"备份文件缺少成员：{'、'.join(missing[:5])}。")
    return staged


def _check_data(data: dict, manifest: dict, chosen: dict[str, type[models.Model]]) -> None:
    if data.get("format") != FORMAT:
        raise BackupError("data.json 格式不符。")
    counts = manifest.get("counts", {})
    for block in data["models"]:
        label = block["model"]
        model = chosen.get(label)
        if model is None:
            raise BackupError(f"备份中有本程序没有的数据表 {label}。")
        if [f.attname for f in _fields(model)] != block["fields"]:
            raise BackupError(f"{label} 的字段与备份时不同。")
        if len(block["rows"]) != counts.get(label):
            raise BackupError(f"{label} 的行数与清单不符。")
    missing = set(counts) - {block["model"] for block in data["models"]}
    if missing:
        raise BackupError(f"data.json 缺少数据表：{'、'.join(sorted(missing))}。")


def _clear(chosen: Iterable[type[models.Model]]) -> None:
    tables = [m._meta.db_table for m in chosen]
    # PostgreSQL: TRUNCATE, which the append-only row triggers do not see. SQLite: DELETE, which
    # its DELETE triggers allow in maintenance only.
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=False,
                                          allow_cascade=True)
    with dbguard.maintenance():
        connection.ops.execute_sql_flush(statements)


def _insert_all(data: dict, chosen: dict[str, type[models.Model]]) -> None:
    natural = _Natural()
    quote = connection.ops.quote_name
    # Foreign keys are checked at commit (Django creates them DEFERRABLE INITIALLY DEFERRED on
    # both databases), so the order of tables does not matter.
    for block in data["models"]:
        model = chosen[block["model"]]
        fields = _fields(model)
        if not block["rows"]:
            continue
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        with connection.cursor() as cursor:
            for start in range(0, len(block["rows"]), 500):
                cursor.executemany(sql, [
                    [_decode(field, value, natural) for field, value in zip(fields, row,
                                                                            strict=True)]
                    for row in block["rows"][start:start + 500]
                ])


def _reset_sequences(chosen: Iterable[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(chosen))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _move_into_place(staged: dict[str, Path], root: Path) -> None:
    for stored_name, path in staged.items():
        target = root / stored_name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.replace(path, target)


def cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"

