"""``xinfang restore IN.xfbk [--force] [--passphrase-env VAR]``: load an archive written by
``xinfang backup`` into an empty database migrated to the same state. It is decrypted (with the
passphrase in VAR, or the key file's backup key) and everything is checked before anything is
written. ``--force`` replaces a database in use, after archiving its audit trail and history."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinfang.audit.backup import BackupError, backup_restore, cli_actor

from ._passphrase import passphrase_from_env


class Command(BaseCommand):
    help = "从 xinfang backup 生成的备份文件恢复全部数据和附件（目标库须为空）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help="备份文件路径")
        parser.add_argument("--force", action="store_true",
                            help="目标库已有数据时先存档其审计记录和办理记录，再清空并恢复")
        parser.add_argument("--passphrase-env", metavar="VAR",
                            help="备份以口令加密时：口令所在的环境变量")

    def handle(self, *args, archive: str, force: bool, passphrase_env: str | None,
               **options) -> None:
        try:
            manifest = backup_restore(archive, force=force, actor_name=cli_actor(),
                                      passphrase=passphrase_from_env(passphrase_env))
        except BackupError as e:
            raise CommandError(str(e)) from e
        rows = sum(manifest["counts"].values())
        files = sum(1 for name in manifest["members"] if name.startswith("attachments/"))
        self.stdout.write(f"已从 {archive}（备份于 {manifest['created_at']}）恢复 {rows} 行数据、"
                          f"{files} 个附件；审计链校验通过。")
        previous = manifest.get("previous_trail")
        if previous:
            self.stdout.write(f"被替换的审计记录（{previous['audit_count']} 条）和办理记录"
                              f"（{previous['history_count']} 条）已存档为 {previous['file']}。")
        if not manifest.get("sealed"):
            self.stderr.write("注意：这是加密之前格式的旧备份（未加密）。")
