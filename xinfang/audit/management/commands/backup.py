"""``xinfang backup OUT.xfbk [--passphrase-env VAR]``: the whole installation's data and attachment
files in one encrypted archive (see ``xinfang/audit/backup.py``). Sealed under the passphrase in
the environment variable VAR, or else under the key file's backup key. The key file is not in it:
back that up separately, apart from the archives."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinfang.audit.backup import BackupError, backup_create, cli_actor

from ._passphrase import passphrase_from_env


class Command(BaseCommand):
    help = "备份全部业务数据和附件到一个加密文件（不含密钥：密钥文件须另行备份）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", help="备份文件路径，如 xinfang-20260918.xfbk（不能已存在）")
        parser.add_argument(
            "--passphrase-env", metavar="VAR",
            help="用环境变量 VAR 中的口令加密（不给则用密钥文件中的备份密钥）")

    def handle(self, *args, out: str, passphrase_env: str | None, **options) -> None:
        passphrase = passphrase_from_env(passphrase_env)
        try:
            manifest = backup_create(out, actor_name=cli_actor(), passphrase=passphrase)
        except BackupError as e:
            raise CommandError(str(e)) from e
        rows = sum(manifest["counts"].values())
        files = sum(1 for name in manifest["members"] if name.startswith("attachments/"))
        keys = "、".join(manifest["keys"]["referenced"]) or "无"
        sealed = "口令" if passphrase else "密钥文件中的备份密钥"
        self.stdout.write(
            f"已加密备份到 {out}（以{sealed}加密）：{rows} 行数据，{files} 个附件；"
            f"数据使用密钥 {keys}。\n"
            "恢复时需要同一密钥文件（XINFANG_KEY_FILE），请确认它另有备份。"
        )
        unreadable = manifest["keys"]["unreadable_at_backup"]
        if unreadable:
            self.stderr.write(f"警告：有数据在密钥 {'、'.join(unreadable)} 之下，而密钥文件中没有"
                              "这些密钥（或密钥不符）：这部分数据已无法解密。")
        if not manifest["audit"]["ok"]:
            self.stderr.write("警告：备份时审计链校验未通过，请运行 `xinfang audit verify` 查看。")
