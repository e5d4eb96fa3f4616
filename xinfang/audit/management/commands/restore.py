"""``xinfang restore IN.tar.gz [--force]``: load an archive written by ``xinfang backup`` into an
empty database migrated to the same state. Everything is checked before anything is written."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinfang.audit.backup import BackupError, backup_restore, cli_actor


class Command(BaseCommand):
    help = "从 xinfang backup 生成的备份文件恢复全部数据和附件（目标库须为空）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help="备份文件路径")
        parser.add_argument("--force", action="store_true",
                            help="目标库已有数据时先清空（含其审计记录）再恢复")

    def handle(self, *args, archive: str, force: bool, **options) -> None:
        try:
            manifest = backup_restore(archive, force=force, actor_name=cli_actor())
        except BackupError as e:
            raise CommandError(str(e)) from e
        rows = sum(manifest["counts"].values())
        files = sum(1 for name in manifest["members"] if name.startswith("attachments/"))
        self.stdout.write(f"已从 {archive}（备份于 {manifest['created_at']}）恢复 {rows} 行数据、"
                          f"{files} 个附件；审计链校验通过。")
