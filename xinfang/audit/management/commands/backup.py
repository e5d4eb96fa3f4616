"""``xinfang backup OUT.tar.gz``: the whole installation's data and attachment files in one archive
(see ``xinfang/audit/backup.py``). The key file is not in it: back that up separately."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinfang.audit.backup import BackupError, backup_create, cli_actor


class Command(BaseCommand):
    help = "备份全部业务数据和附件到一个 .tar.gz 文件（不含密钥：密钥文件须另行备份）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", help="备份文件路径，如 xinfang-20260918.tar.gz（不能已存在）")

    def handle(self, *args, out: str, **options) -> None:
        try:
            manifest = backup_create(out, actor_name=cli_actor())
        except BackupError as e:
            raise CommandError(str(e)) from e
        rows = sum(manifest["counts"].values())
        files = sum(1 for name in manifest["members"] if name.startswith("attachments/"))
        keys = "、".join(manifest["keys"]["referenced"]) or "无"
        self.stdout.write(
            f"已备份到 {out}：{rows} 行数据，{files} 个附件；数据使用密钥 {keys}。\n"
            "恢复时需要同一密钥文件（XINFANG_KEY_FILE），请确认它另有备份。"
        )
        unreadable = manifest["keys"]["unreadable_at_backup"]
        if unreadable:
            self.stderr.write(f"警告：有数据在密钥 {'、'.join(unreadable)} 之下，而密钥文件中没有"
                              "这些密钥（或密钥不符）：这部分数据已无法解密。")
        if not manifest["audit"]["ok"]:
            self.stderr.write("警告：备份时审计链校验未通过，请运行 `xinfang audit verify` 查看。")
