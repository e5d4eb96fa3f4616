"""``xinfang import_ledger FILE --as USER [--dry-run] [--skip-invalid]``: an office's own L0, L1
or L2 ledger, as filled by hand, into xinfang."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.documents.management.commands._acting import acting
from xinfang.imports.services import ImportRefused, ledger_import


class Command(BaseCommand):
    help = "导入手工填写的 L0/L1/L2 台账（.xlsx 或 .csv）"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--as", dest="username", required=True, help="以此用户（经办人）导入")
        parser.add_argument("--membership", type=int, help="该用户有多个任职时，指定任职编号")
        parser.add_argument("--dry-run", action="store_true", help="只检查并列出错误，不写入")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="导入无误的行，列出并跳过有误的行（默认：有误则全部不导入）",
        )

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        by = acting(opts["username"], opts.get("membership"))
        try:
            outcome = ledger_import(
                by=by,
                content=path.read_bytes(),
                filename=path.name,
                dry_run=opts["dry_run"],
                skip_invalid=opts["skip_invalid"],
                ip="cli",
            )
        except ImportRefused as e:
            raise CommandError(str(e)) from None
        for sheet in outcome.reading.sheets:
            if sheet.layout:
                self.stdout.write(
                    f"工作表“{sheet.name}”：{sheet.layout.code} "
                    f"{sheet.layout.title}，{sheet.rows} 行"
                )
            elif sheet.hidden:
                self.stdout.write(f"工作表“{sheet.name}”：隐藏的工作表，未读取")
        for issue in outcome.issues:
            self.stderr.write(str(issue))
        n = outcome.count
        mode = "试运行" if outcome.dry_run else "导入"
        summary = (
            f"{mode}：新建 {n('created') + n('new')}，此前已导入 {n('exists')}，"
            f"文件内重复 {n('duplicate')}，有误 {len(outcome.bad_rows)} 行"
            f"（{len(outcome.issues)} 处）；文件 SHA-256 {outcome.sha256}"
        )
        if outcome.dry_run:
            self.stdout.write(summary + "；未写入任何数据")
            if outcome.issues:
                raise CommandError(f"{len(outcome.issues)} 处错误。")
            return
        if not outcome.committed:
            self.stdout.write(summary)
            raise CommandError(
                f"{len(outcome.issues)} 处错误，未导入任何一行"
                "（可改正后重试，或加 --skip-invalid 只导入无误的行）。"
            )
        self.stdout.write(summary)
        if outcome.issues:
            self.stderr.write(f"已跳过 {len(outcome.bad_rows)} 个有误的行（见上）。")
