"""``xinfang archive build CASE --as USER [--out FILE]`` and ``xinfang archive verify FILE|CASE``
— the case file (一案一档) as a ZIP with manifest.json; verify exits non-zero naming the file.
``xinfang archive week DIR --as USER [--since DATE]`` writes the weekly report-back folder of
seed 001: one case file per case reported back or closed since DATE (default: seven days ago)."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from xinfang.cases.errors import Refused
from xinfang.cases.selectors import cases_for
from xinfang.documents.archive import (
    ArchiveMismatch,
    archive_batches,
    archive_build,
    archive_verify,
)
from xinfang.reports.files import file_write_atomically, out_refusal

from ._acting import acting, case_by_number_or_id


class Command(BaseCommand):
    help = "一案一档：生成案卷 ZIP（build），或校验案卷（verify）。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["build", "verify", "week"])
        parser.add_argument("target", help="信访件编号或 id（build）；案卷文件或信访件（verify）")
        parser.add_argument("--as", dest="username", help="以该用户的身份（build 必填）")
        parser.add_argument("--out", help="输出文件（默认：<编号>.zip）")
        parser.add_argument("--since", help="week：起始日期 YYYY-MM-DD（默认七天前）")
        parser.add_argument(
            "--no-pdf", action="store_true", help="不转换 PDF（默认在装有 LibreOffice 时转换）"
        )

    def handle(self, *args, **options):
        target = options["target"]
        if options["action"] == "week":
            return self.week(Path(target), options)
        data = self.file_to_verify(target, options) if options["action"] == "verify" else None
        if data is None:
            if not options["username"]:
                raise CommandError("请用 --as 指定以哪位用户的身份生成案卷。")
            if options["action"] == "build" and options["out"] and (
                    why := out_refusal(Path(options["out"]))):
                raise CommandError(f"--out：{why}")
            by = acting(options["username"])
            case = case_by_number_or_id(by, target)
            try:
                pdf = options["action"] == "build" and not options["no_pdf"]
                data = archive_build(case=case, by=by, pdf=pdf)
            except Refused as e:  # a stored file no longer matches its SHA-256
                raise CommandError(f"案卷校验失败：{e.message}") from None
            if options["action"] == "build":
                out = Path(options["out"] or f"{case.number}.zip")
                file_write_atomically(io.BytesIO(data), out, prefix=".archive-")
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

    @staticmethod
    def file_to_verify(target: str, options) -> bytes | None:
        """The bytes of the case file ``target`` names, or None when it names a case. A name that
        is no file is a case only with ``--as`` (a case is built to be verified) and when it does
        not end in .zip: a mistyped path is said to be missing, named as it was typed."""
        path = Path(target)
        if path.is_file():
            try:
                return path.read_bytes()
            except OSError as e:
                raise CommandError(f"无法读取案卷文件“{target}”：{e.strerror}") from None
        if path.exists():
            raise CommandError(f"“{target}”不是文件。")
        if path.suffix.lower() == ".zip":
            raise CommandError(f"没有案卷文件“{target}”。")
        if not options["username"]:
            raise CommandError(
                f"没有案卷文件“{target}”。若要校验信访件，请用 --as 指定以哪位用户的身份生成案卷。"
            )
        return None

    def week(self, folder: Path, options) -> None:
        if not options["username"]:
            raise CommandError("请用 --as 指定以哪位用户的身份生成案卷。")
        if folder.exists() and not folder.is_dir():
            raise CommandError(f"target：“{folder}”不是目录。")
        by = acting(options["username"])
        try:
            since = (
                date.fromisoformat(options["since"])
                if options["since"]
                else timezone.localdate() - timedelta(days=7)
            )
        except ValueError:
            raise CommandError(f"--since 须为 YYYY-MM-DD，不是“{options['since']}”。") from None
        start = timezone.make_aware(datetime.combine(since, time.min))
        cases = cases_for(by).filter(Q(reported_back_at__gte=start) | Q(closed_at__gte=start))
        folder.mkdir(parents=True, exist_ok=True)
        count = 0
        for case in archive_batches(list(cases.select_related("jurisdiction").order_by("number"))):
            try:
                data = archive_build(case=case, by=by, pdf=not options["no_pdf"])
            except Refused as e:
                raise CommandError(f"{case.number} 案卷校验失败：{e.message}") from None
            (folder / f"{case.number}.zip").write_bytes(data)
            count += 1
        self.stdout.write(f"已生成 {count} 件案卷到 {folder}（{since} 起反馈或销号）")
