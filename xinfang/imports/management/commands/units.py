"""``xinfang units import FILE [--dry-run]``: the unit tree from an .xlsx or .csv file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.imports.units import units_import


class Command(BaseCommand):
    help = "导入单位树：xinfang units import FILE [--dry-run]（列：单位路径、类型）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="从 .xlsx 或 .csv 导入单位")
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        outcome = units_import(
            content=path.read_bytes(),
            filename=path.name,
            by=None,
            dry_run=opts["dry_run"],
            actor_name="命令行（units import）",
        )
        for name in outcome.hidden:
            self.stdout.write(f"工作表“{name}”：隐藏的工作表，未读取")
        for error in outcome.errors:
            self.stderr.write(error)
        if outcome.errors:
            raise CommandError(f"{len(outcome.errors)} 处错误，未导入任何单位。")
        verb = "将新建" if opts["dry_run"] else "已新建"
        for row in outcome.rows:
            if row.status == "new" or row.note:
                said = verb if row.status == "new" else "已存在"
                self.stdout.write(f"{said}：{'/'.join(row.path)}"
                                  + (f"（{row.note}）" if row.note else ""))
        kept = sum(1 for r in outcome.rows if r.status == "exists")
        self.stdout.write(
            f"{verb} {len(outcome.created)} 个单位，已存在 {kept} 个"
            f"{'（试运行，未写入）' if opts['dry_run'] else ''}；文件 SHA-256 {outcome.sha256}"
        )
