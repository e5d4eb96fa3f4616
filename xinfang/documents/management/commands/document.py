"""``xinfang document CASE D1 --as USER --out FILE [--pdf]`` — one instrument of a case, as that
user would download it: the same door, the same masking, the same audit entry. The PDF is
converted here (the command may wait; a page never does). An instrument not frozen yet is
issued first, by that user (the page asks for it with a button)."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.cases.errors import Refused
from xinfang.documents.instruments import INSTRUMENTS
from xinfang.documents.models import Format, Rendition
from xinfang.documents.pdf import UNAVAILABLE, soffice
from xinfang.documents.selectors import document_file
from xinfang.documents.services import (
    document_correct,
    document_issue_requested,
    rendition_pdf_convert,
)
from xinfang.reports.files import file_write_atomically, out_refusal

from ._acting import acting, case_by_number_or_id


class Command(BaseCommand):
    help = "导出一件信访件的文书（DOCX，或 --pdf），按指定用户的权限和脱敏规则，记入审计。"

    def add_arguments(self, parser):
        parser.add_argument("case", help="信访件编号或 id")
        parser.add_argument("code", help="文书：" + "、".join(INSTRUMENTS))
        parser.add_argument("--out", required=True, help="输出文件")
        parser.add_argument("--pdf", action="store_true", help="输出 PDF（需要 LibreOffice）")
        parser.add_argument("--as", dest="username", required=True, help="以该用户的身份")
        parser.add_argument("--membership", type=int, help="任职编号（默认：第一个有效任职）")
        parser.add_argument(
            "--doc-version", dest="doc_version", type=int, help="版本（默认：最新）"
        )
        parser.add_argument("--correct", metavar="REASON", help="先出具更正版本，写明理由")

    def handle(self, *args, **options):
        out = Path(options["out"])
        if why := out_refusal(out):
            raise CommandError(f"--out：{why}")
        by = acting(options["username"], options["membership"])
        case = case_by_number_or_id(by, options["case"])
        fmt = Format.PDF if options["pdf"] else Format.DOCX
        if fmt == Format.PDF and soffice() is None:
            raise CommandError(UNAVAILABLE)
        try:
            if options["correct"]:
                document_correct(case=case, code=options["code"], by=by, reason=options["correct"])
            elif options["doc_version"] is None:
                # A command is asked for on purpose, as the page's 出具 button is: the instrument
                # the step's task has not frozen yet is issued here, by this user.
                doc, made = document_issue_requested(case=case, code=options["code"], by=by)
                if made:
                    self.stdout.write(f"已出具 {doc.code} {doc.title} 第{doc.version}版")
            row = document_file(
                by=by,
                case_id=case.pk,
                code=options["code"],
                fmt=fmt,
                version=options["doc_version"],
                via="cli",
            )
        except Refused as e:
            raise CommandError(e.message) from None
        if row.status != Rendition.Status.READY:
            row = rendition_pdf_convert(row.pk)
        if row.status != Rendition.Status.READY:
            raise CommandError(row.error or "PDF 正由另一进程生成，请稍后重试。")
        file_write_atomically(io.BytesIO(bytes(row.content)), out, prefix=".document-")
        doc = row.document
        self.stdout.write(
            f"{doc.code} {doc.title} v{doc.version}（{row.get_audience_display()}）"
            f" → {out}  sha256 {row.sha256}"
        )
