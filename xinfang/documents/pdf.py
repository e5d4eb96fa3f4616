"""DOCX → PDF through LibreOffice headless, in a subprocess with a timeout.

Each call gets its own LibreOffice profile directory (``-env:UserInstallation``): two conversions
at once would otherwise fight over one profile lock and the second would silently do nothing.
Page size and margins come from the DOCX itself (A4, GB/T 9704 in the repository's templates);
Chinese text renders through fontconfig's CJK fonts (fonts-noto-cjk)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

UNAVAILABLE = (
    "本机未安装 LibreOffice，无法生成 PDF；DOCX 文书可照常下载。"
    "安装：apt-get install libreoffice-writer-nogui"
)


class PdfUnavailable(Exception):
    pass


class PdfFailed(Exception):
    pass


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def timeout_seconds() -> int:
    return int(getattr(settings, "XINFANG_PDF_TIMEOUT", 120))


def docx_to_pdf(docx: bytes, *, timeout: int | None = None) -> bytes:
    binary = soffice()
    if binary is None:
        raise PdfUnavailable(UNAVAILABLE)
    with tempfile.TemporaryDirectory(prefix="xinfang-pdf-") as tmp:
        work = Path(tmp)
        source = work / "document.docx"
        source.write_bytes(docx)
        profile = (work / "profile").as_uri()
        command = [
            binary,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                timeout=timeout or timeout_seconds(),
                cwd=tmp,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfFailed(
                f"LibreOffice 转换超时（{timeout or timeout_seconds()} 秒）。"
            ) from None
        target = work / "out" / "document.pdf"
        if done.returncode != 0 or not target.exists():
            detail = (done.stderr or done.stdout).decode("utf-8", "replace")[-200:]
            raise PdfFailed(f"LibreOffice 转换失败（退出码 {done.returncode}）：{detail}")
        return target.read_bytes()
