"""``xinfang keys``: the SM4 key file and key rotation.

    xinfang keys create [--passphrase-env VAR]   # once per installation; back the file up at once
    xinfang keys create --print      # a key document for XINFANG_KEYS (containers); no file
    xinfang keys wrap --passphrase-env VAR       # seal the key file under a passphrase
    xinfang keys unwrap              # write it in the clear again (XINFANG_KEY_PASSPHRASE set)
    xinfang keys rotate-mac          # a new MAC key for the audit trail and history
    xinfang keys status              # key ids, the current one, values still under older keys
    xinfang keys rotate [--batch 500] [--no-new-key] [--settle SECONDS]
    xinfang keys retire k1           # forget an old key, once no stored value uses it

``rotate`` adds a new current key and re-encrypts every ``EncryptedTextField`` value of every model
(and tokens kept in plain text columns, such as TOTP secrets) in small batches, each its own short
transaction, while the system keeps running. Each row is rewritten only if it still holds the token
that was read (compare-and-set), so a concurrent edit is never overwritten; the passes repeat until
nothing is left under an older key and the other processes have had time to notice the new key
(``--settle``). Interrupted, it resumes: a run that finds values still under older keys finishes
them instead of adding yet another key. Old keys stay in the file (older backups need them) until
``retire``.
"""

from __future__ import annotations

import getpass
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models.functions import Cast

from xinfang.audit.management.commands._passphrase import passphrase_from_env
from xinfang.audit.services import KEY_ROTATION, audit_record
from xinfang.security import crypto
from xinfang.security.crypto import SCHEME, DecryptionError, KeyFileError, KeyRing, get_keyring
from xinfang.security.fields import EncryptedTextField

_TOKEN = "xf_token"  # the annotation that reads a column's raw token, bypassing decryption


def token_columns() -> Iterator[tuple[type[models.Model], models.Field, bool]]:
    """Every column that holds tokens, as ``(model, field, strict)``: each ``EncryptedTextField``
    (``strict``: every non-empty value must be a token), and any other text column where tokens
    were stored by hand (``User.totp_secret``) — there a value that merely looks like a token and
    does not decrypt is left alone, as it may be something a user typed."""
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed:
            continue
        for field in opts.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field, True
            elif (
                isinstance(field, models.CharField | models.TextField)
                and not field.primary_key
                and model._base_manager.filter(**{f"{field.attname}__startswith": f"{SCHEME}:"})
                .exists()
            ):
                yield model, field, False


def _tokens(model: type[models.Model], field: models.Field, strict: bool) -> models.QuerySet:
    """Rows with a non-empty stored value (a token-like one unless ``strict``)."""
    rows = (
        model._base_manager.annotate(**{_TOKEN: Cast(field.attname, models.TextField())})
        .exclude(**{f"{_TOKEN}__isnull": True})
        .exclude(**{_TOKEN: ""})
    )
    return rows if strict else rows.filter(**{f"{_TOKEN}__startswith": f"{SCHEME}:"})


def key_usage(ring: KeyRing) -> dict[str, Counter]:
    """For each ``app.Model.field``: how many values sit under each key id (``None``: a value in
    an encrypted column that is not a token at all)."""
    usage: dict[str, Counter] = {}
    for model, field, strict in token_columns():
        counts: Counter = Counter()
        for token in _tokens(model, field, strict).values_list(_TOKEN, flat=True).iterator(2000):
            if not strict and not _decrypts(ring, token):
                continue  # text that only looks like a token
            counts[token.split(":", 2)[1] if crypto.is_token(token) else None] += 1
        usage[f"{model._meta.label}.{field.name}"] = counts
    return usage


def _decrypts(ring: KeyRing, token: str) -> bool:
    try:
        ring.decrypt(token)
    except DecryptionError:
        return False
    return True


def rotate_pass(ring: KeyRing, *, batch: int) -> tuple[int, list[str]]:
    """Re-encrypt, under the current key, every value under another. Returns how many rows were
    rewritten and the problems met (values that are not tokens or under a key not in the file)."""
    rewritten = 0
    problems: list[str] = []
    current = f"{SCHEME}:{ring.current_key_id}:"
    quote = connection.ops.quote_name
    for model, field, strict in token_columns():
        stale = _tokens(model, field, strict).exclude(**{f"{_TOKEN}__startswith": current})
        sql = (
            f"UPDATE {quote(model._meta.db_table)} SET {quote(field.column)} = %s "
            f"WHERE {quote(model._meta.pk.column)} = %s AND {quote(field.column)} = %s"
        )
        after = None
        while True:
            page = stale.order_by("pk") if after is None else stale.filter(pk__gt=after).order_by(
                "pk")
            rows = list(page.values_list("pk", _TOKEN)[:batch])
            if not rows:
                break
            with transaction.atomic(), connection.cursor() as cursor:
                for pk, token in rows:
                    try:
                        new = ring.reencrypt(token)
                    except DecryptionError as e:
                        if strict:
                            problems.append(f"{model._meta.label}#{pk}.{field.name}: {e}")
                        continue
                    # Compare-and-set: a row edited since it was read keeps the newer value.
                    cursor.execute(sql, [new, pk, token])
                    rewritten += cursor.rowcount
            after = rows[-1][0]
    return rewritten, problems


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class Command(BaseCommand):
    help = "管理加密密钥：创建密钥文件、查看状态、轮换密钥、退役旧密钥。"

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="创建密钥文件（已存在则拒绝）")
        create.add_argument("--passphrase-env", metavar="VAR",
                            help="用环境变量 VAR 中的口令封装密钥文件（运行时须设置 "
                                 "XINFANG_KEY_PASSPHRASE 为同一口令）")
        create.add_argument("--print", action="store_true", dest="print_only",
                            help="不写文件，把新密钥文档打印出来，供 XINFANG_KEYS 环境变量使用")
        wrap = actions.add_parser("wrap", help="用口令封装密钥文件（或更换口令）")
        wrap.add_argument("--passphrase-env", metavar="VAR", required=True,
                          help="新口令所在的环境变量")
        actions.add_parser("unwrap", help="解除口令封装，以明文 JSON 保存密钥文件")
        actions.add_parser("rotate-mac", help="新增审计与办理记录的 MAC 密钥（旧密钥保留用于校验）")
        actions.add_parser("status", help="列出密钥及各密钥下的加密值数量")
        rotate = actions.add_parser("rotate", help="新增密钥并把所有加密值重新加密（可中断后续跑）")
        rotate.add_argument("--batch", type=int, default=500, help="每个事务处理的行数（默认 500）")
        rotate.add_argument("--no-new-key", action="store_true",
                            help="不新增密钥，只把旧密钥下的值重新加密到当前密钥")
        rotate.add_argument(
            "--settle", type=float, default=crypto.REFRESH_SECONDS + 1,
            help="新增密钥后至少再检查这么多秒，等其他进程读到新密钥（默认 %(default)s）",
        )
        retire = actions.add_parser("retire", help="从密钥文件中删除一个不再使用的旧密钥")
        retire.add_argument("key_id")

    def handle(self, *args, action: str, **options) -> None:
        try:
            if action == "create":
                self.create(passphrase=passphrase_from_env(options["passphrase_env"]),
                            print_only=options["print_only"])
            elif action == "wrap":
                self.wrap(passphrase_from_env(options["passphrase_env"]))
            elif action == "unwrap":
                self.wrap(None)
            elif action == "rotate-mac":
                self.rotate_mac()
            elif action == "status":
                self.status()
            elif action == "rotate":
                if options["batch"] < 1:
                    raise CommandError("--batch 须为正整数")
                self.rotate(batch=options["batch"], new_key=not options["no_new_key"],
                            settle=max(options["settle"], 0.0))
            else:
                self.retire(options["key_id"])
        except KeyFileError as e:
            raise CommandError(str(e)) from e

    def create(self, *, passphrase: str | None, print_only: bool) -> None:
        if print_only:
            if passphrase:
                raise CommandError("--print 与 --passphrase-env 不能同用。")
            # Only the document on stdout, so it can go straight into a secret store.
            self.stdout.write(KeyRing.generate().to_json(), ending="")
            return
        path = Path(settings.XINFANG_KEY_FILE)
        try:
            ring = KeyRing.create(path, passphrase=passphrase)
        except FileExistsError as e:
            raise CommandError(f"密钥文件 {path} 已存在，拒绝覆盖。") from e
        crypto.reset_keyring_cache()
        wrapped = "，已用口令封装（运行时须设置 XINFANG_KEY_PASSPHRASE）" if passphrase else ""
        self.stdout.write(
            f"已创建密钥文件 {path}（当前密钥 {ring.current_key_id}，MAC 密钥 "
            f"{ring.current_mac_key_id}{wrapped}）。\n"
            "请立即把它备份到数据库之外的安全位置：没有它，加密数据无法恢复。"
        )

    def wrap(self, passphrase: str | None) -> None:
        ring = get_keyring()
        if ring.path is None:
            raise CommandError("密钥来自环境变量 XINFANG_KEYS，没有可封装的文件。")
        # The cached ring keeps the new passphrase: this process reads the file on; others
        # keep the keys they hold until restarted with XINFANG_KEY_PASSPHRASE.
        ring.wrap(passphrase)
        audit_record(action=KEY_ROTATION, actor_name=_cli_actor(), object_type="key_file",
                     object_id="", detail={"phase": "wrapped" if passphrase else "unwrapped"})
        if passphrase:
            self.stdout.write(f"已用口令封装 {ring.path}。今后启动时须把口令放在环境变量 "
                              "XINFANG_KEY_PASSPHRASE 中；旧的明文副本请一并销毁或同样封装。")
        else:
            self.stdout.write(f"已解除 {ring.path} 的口令封装（明文保存，权限 0600）。")

    def rotate_mac(self) -> None:
        ring = get_keyring()
        if ring.path is None:
            raise CommandError("密钥来自环境变量 XINFANG_KEYS：请在密钥文档中轮换。")
        old = ring.current_mac_key_id
        key_id = ring.add_mac_key()
        audit_record(action=KEY_ROTATION, actor_name=_cli_actor(), object_type="mac_key",
                     object_id=key_id, detail={"phase": "mac_key_added", "previous": old})
        self.stdout.write(f"已新增 MAC 密钥 {key_id}；此后的审计记录和办理记录用它签名，"
                          f"{old} 保留用于校验旧记录（不要删除）。请重新备份密钥文件。")

    def status(self) -> None:
        ring = get_keyring()
        source = ring.path or "环境变量 XINFANG_KEYS"
        self.stdout.write(f"密钥文件：{source}" + ("（口令封装）" if ring.passphrase else ""))
        self.stdout.write(f"密钥：{'、'.join(ring.key_ids)}；当前：{ring.current_key_id}")
        self.stdout.write(
            f"MAC 密钥：{'、'.join(ring.mac_key_ids)}；当前：{ring.current_mac_key_id}")
        total: Counter = Counter()
        for name, counts in key_usage(ring).items():
            total.update(counts)
            parts = "，".join(f"{k or '非密文'} {n}" for k, n in sorted(
                counts.items(), key=lambda kv: str(kv[0]))) or "无"
            self.stdout.write(f"  {name}：{parts}")
        stale = sum(n for k, n in total.items() if k != ring.current_key_id)
        unknown = sorted(k for k in total if k is not None and k not in ring.key_ids)
        self.stdout.write(f"旧密钥下尚有 {stale} 个值" + ("，需运行 `xinfang keys rotate`。"
                                                        if stale else "。"))
        if unknown:
            self.stderr.write(f"警告：密钥文件中没有密钥 {'、'.join(unknown)}，相应数据无法解密！")

    def rotate(self, *, batch: int, new_key: bool, settle: float) -> None:
        ring = get_keyring()
        pending = sum(
            n for counts in key_usage(ring).values() for k, n in counts.items()
            if k != ring.current_key_id
        )
        resumed = pending > 0 or not new_key
        if resumed:
            self.stdout.write(f"继续：把旧密钥下的 {pending} 个值重新加密到当前密钥 "
                              f"{ring.current_key_id}。")
        else:
            old = ring.current_key_id
            key_id = ring.add_key()
            audit_record(action=KEY_ROTATION, actor_name=_cli_actor(), object_type="key",
                         object_id=key_id, detail={"phase": "key_added", "previous": old})
            self.stdout.write(f"已新增密钥 {key_id}（原当前密钥 {old} 保留用于解密）。")
        settle_until = time.monotonic() + (0.0 if resumed else settle)
        rewritten = 0
        while True:
            done, problems = rotate_pass(ring, batch=batch)
            rewritten += done
            if problems:
                listed = "\n".join(f"  {p}" for p in problems[:20])
                raise CommandError(f"有 {len(problems)} 个值无法重新加密（已处理 {rewritten} 个，"
                                   f"可修复后重跑）：\n{listed}")
            if done == 0:
                remaining = settle_until - time.monotonic()
                if remaining <= 0:
                    break
                time.sleep(min(remaining, 1.0))
        audit_record(action=KEY_ROTATION, actor_name=_cli_actor(), object_type="key",
                     object_id=ring.current_key_id,
                     detail={"phase": "completed", "reencrypted": rewritten, "resumed": resumed})
        self.stdout.write(
            f"完成：重新加密 {rewritten} 个值，全部在密钥 {ring.current_key_id} 之下。")

    def retire(self, key_id: str) -> None:
        ring = get_keyring()
        users = sum(counts.get(key_id, 0) for counts in key_usage(ring).values())
        if users:
            raise CommandError(
                f"仍有 {users} 个值在密钥 {key_id} 之下，先运行 `xinfang keys rotate`。")
        ring.remove_key(key_id)
        audit_record(action=KEY_ROTATION, actor_name=_cli_actor(), object_type="key",
                     object_id=key_id, detail={"phase": "retired"})
        self.stdout.write(f"已删除密钥 {key_id}。注意：用它加密的旧备份从此无法恢复，"
                          "除非另存有旧的密钥文件。")
