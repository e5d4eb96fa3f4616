"""Optional Debian extras, detected at run time. Their absence is explained, never a crash."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Extra:
    name: str
    found: str | None
    needed_for: str
    install: str


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def libreoffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def cjk_fonts() -> str | None:
    if not shutil.which("fc-list"):
        return None
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return out.splitlines()[0] if out.strip() else None


def extras() -> list[Extra]:
    return [
        Extra(
            "LibreOffice",
            libreoffice(),
            "把文书转换为 PDF 归档 (Word → PDF for the case file)",
            "apt-get install libreoffice-writer-nogui",
        ),
        Extra(
            "CJK fonts",
            cjk_fonts(),
            "PDF 与截图中的中文字形 (Chinese glyphs in PDFs)",
            "apt-get install fonts-noto-cjk",
        ),
        Extra(
            "Chromium", chromium(), "浏览器测试 (browser tests only)", "apt-get install chromium"
        ),
    ]
