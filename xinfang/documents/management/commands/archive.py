"""``xinfang archive build CASE --as USER [--out FILE]`` and ``xinfang archive verify FILE|CASE``
— the case file (一案一档) as a ZIP with manifest.json; verify exits non-zero naming the file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.cases.errors import Refused
from xinfang.documents.archive import ArchiveMismatch, archive_build, archive_verify

from ._acting import acting, case_by_number_or_id


class Command(BaseCommand):
    help = "一案一档：生成案卷 ZIP（build），或校验案卷（verify）。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["build", "verify"])
        parser.add_argument("target", help="信访件编号或 id（build）；案卷文件或信访件（verify）")
        parser.add_argument("--as", dest="username", help="以该用户的身份（build 必填）")
        parser.add_argument("--out", help="输出文件（默认：<编号>.zip）")
        parser.add_argument(
            "--no-pdf", action="store_true", help="不转换 PDF（默认在装有 LibreOffice 时转换）"
        )

    def handle(self, *args, **options):
        target = options["target"]
        if options["action"] == "verify" and Path(target).is_file():
            data = Path(target).read_bytes()
        else:
            if not options["username"]:
                raise CommandError("请用 --as 指定以哪位用户的身份生成案卷。")
            by = acting(options["username"])
            case = case_by_number_or_id(by, target)
            try:
                pdf = options["action"] == "build" and not options["no_pdf"]
                data = archive_build(case=case, by=by, pdf=pdf)
            except Refused as e:  # a stored file no longer matches its SHA-256
                raise CommandError(f"案卷校验失败：{e.message}") from None
            if options["action"] == "build":
                out = Path(options["out"] or f"{case.number}.zip")
                out.write_bytes(data)
                self.stdout.write(f"已生成案卷 {out}（{len(data)} 字节）")
                return
        try:
            manifest = archive_verify(data)
        except ArchiveMismatch as e:
            raise CommandError(f"案卷校验失败：{e}") from None
        self.stdout.write(
            f"案卷校验通过：{manifest['case']}，{len(manifest['files'])} 个文件，"
            f"案件版本 {manifest['case_version']}"
        )
