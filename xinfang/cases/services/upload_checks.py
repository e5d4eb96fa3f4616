"""Uploads checked past their first bytes: each accepted type is parsed whole.

``sniff`` (attachments.py) names the type from the magic bytes; a file that starts like a PDF can
still be a PDF header glued to an executable, or a valid picture with a ZIP archive appended (a
polyglot that another program opens as something else). ``inspect`` therefore reads the whole
file as its type and refuses:

- PDF: what pypdf cannot parse (every page and every object reachable from the trailer);
  encrypted documents (nobody could check them, nor read them later); anything that acts —
  JavaScript, launch actions, embedded files, rich media, XFA forms; and bytes after the final
  ``%%EOF``.
- JPEG and PNG: what Pillow cannot fully decode (decompression bombs included), and any bytes
  after the image's end (IEND for PNG; EOI for JPEG, where only further JPEG streams — the
  multi-picture images phones write — may follow). Images are decoded, not re-encoded: the
  stored bytes stay the evidence the petitioner gave, with their checksum.
- DOCX and XLSX: encrypted or oversized members (a ZIP bomb), macros (``vbaProject.bin``,
  macro-enabled content types), ActiveX, embedded OLE objects and packages, executables, and
  relationships that fetch a template or object from outside (template injection).
- DOC and XLS (OLE compound files): VBA macro storages and embedded ``Ole10Native`` packages.

Each refusal is a sentence for the user; ``None`` means the file is what it says it is.
"""

from __future__ import annotations

import io
import mmap
import re
import struct
import warnings
import zipfile
from pathlib import Path
from typing import IO

from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

# Names whose presence in any PDF object means the document acts instead of being read.
_PDF_ACTIVE = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
               "/XFA", "/SubmitForm", "/ImportData", "/GoToE"}
_PDF_TRAILER_SLACK = 64  # whitespace after %%EOF some writers leave
_PDF_MAX_OBJECTS = 200_000

_ZIP_MAX_TOTAL = 200 * 1024 * 1024  # uncompressed
_ZIP_MAX_RATIO = 200
_ZIP_MAX_MEMBERS = 5000
_MACRO_TYPES = ("macroenabled", "vbaproject", "vnd.ms-office.activex",
                "vnd.ms-excel.sheet.binary")
_RISKY_MEMBER = re.compile(
    r"(vbaproject\.bin|vbadata\.xml|/activex/|/embeddings/|oleobject\d*\.bin"
    r"|\.(exe|dll|scr|com|bat|cmd|ps1|vbs|vbe|js|jse|wsf|hta|jar|msi|lnk)$)",
    re.IGNORECASE,
)
_EXTERNAL_RISKY = re.compile(
    rb'Type="[^"]*/(attachedTemplate|oleObject|subDocument|frame|package)"[^>]*'
    rb'TargetMode="External"|TargetMode="External"[^>]*Type="[^"]*/'
    rb'(attachedTemplate|oleObject|subDocument|frame|package)"'
)
_OLE_MACRO_STREAMS = ("_VBA_PROJECT", "_VBA_PROJECT_CUR", "Macros", "VBA", "Ole10Native")


def inspect(path: Path, kind: str) -> str | None:
    check = _CHECKS.get(kind)
    return check(path) if check is not None else None


def office_problem(content: bytes) -> str | None:
    """The DOCX or XLSX check for a file held in memory (a document template); ``None`` too for
    what is no ZIP at all, which its caller refuses as not the file it expects."""
    source = io.BytesIO(content)
    return _ooxml(source) if zipfile.is_zipfile(source) else None


# -- PDF ------------------------------------------------------------------------------------------


def _pdf(path: Path) -> str | None:
    unreadable = "PDF 文件无法完整解析（已损坏，或不是真正的 PDF），请重新生成后上传。"
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        end = data.rfind(b"%%EOF")
        if end < 0:
            return unreadable
        if data[end + 5:].strip(b"\r\n\t \x00") or len(data) - end - 5 > _PDF_TRAILER_SLACK:
            return "PDF 文件结尾之后还附带了其他数据，不予接收。请用“另存为 PDF”重新生成。"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(path, strict=False)
            if reader.is_encrypted:
                return "PDF 文件已加密或设有打开密码，无法检查其内容，请去除密码后上传。"
            if len(reader.pages) == 0:
                return unreadable
            for page in reader.pages:
                page.mediabox  # noqa: B018 - every page must resolve
            active = _pdf_active(reader.trailer)
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            RecursionError, OSError, AssertionError):
        return unreadable
    if active:
        return (f"PDF 文件含有脚本、嵌入文件或自动动作（{active}），不予接收。"
                "请打印为普通 PDF 后上传。")
    return None


def _pdf_active(root: object) -> str | None:
    """The first active name reachable from ``root``, walking every object once."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > _PDF_MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(obj, DictionaryObject | StreamObject):
            for key, value in obj.items():
                if key in _PDF_ACTIVE:
                    return key
                if key == "/S" and str(value) in _PDF_ACTIVE:
                    return str(value)
                if key != "/Parent":  # pages point back up; the walk reaches them from above
                    stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return None


# -- images ---------------------------------------------------------------------------------------


def _image(path: Path, expected: str) -> str | None:
    broken = "图片无法完整解码（已损坏，或不是真正的图片），请重新导出后上传。"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if (image.format or "").lower() != expected:
                    return broken
                image.verify()
            with Image.open(path) as image:
                image.load()
    except Image.DecompressionBombError:
        return "图片像素过多，不予接收，请缩小后上传。"
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, EOFError,
            struct.error):
        return broken
    end = _png_end(path) if expected == "png" else _jpeg_end(path)
    if end is None:
        return broken
    if end < path.stat().st_size:
        return "图片结尾之后还附带了其他数据（可能是隐藏的文件），不予接收。请重新导出后上传。"
    return None


def _png_end(path: Path) -> int | None:
    """Offset just after the IEND chunk, walking chunk by chunk."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= len(data) else None
    return None


def _jpeg_end(path: Path) -> int | None:
    """Offset after the last of one or more concatenated JPEG streams (MPF), then zero padding."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    end = None
    while pos < len(data) and data.startswith(b"\xff\xd8", pos):
        stream_end = _jpeg_stream_end(data, pos)
        if stream_end is None:
            return None
        end = pos = stream_end
    if end is None:
        return None
    return end + len(data[end:]) - len(data[end:].lstrip(b"\x00"))


def _jpeg_stream_end(data: bytes, pos: int) -> int | None:
    pos += 2  # SOI
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > len(data):
            return None
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while pos + 1 < len(data):
                following = data[pos + 1]
                if data[pos] == 0xFF and following != 0x00 and not 0xD0 <= following <= 0xD7:
                    break
                pos += 1
    return None


# -- Office ---------------------------------------------------------------------------------------


def _ooxml(path: Path | IO[bytes]) -> str | None:
    refused = ("Office 文件含有宏、ActiveX 控件、嵌入对象或外部模板，不予接收。"
               "请另存为不含宏的文档后上传。")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > _ZIP_MAX_MEMBERS:
                return "Office 文件结构异常（部件过多），不予接收。"
            total = 0
            for member in members:
                if member.flag_bits & 0x1:
                    return "Office 文件已加密，无法检查其内容，请去除密码后上传。"
                total += member.file_size
                ratio = member.file_size / max(member.compress_size, 1)
                if total > _ZIP_MAX_TOTAL or (member.file_size > 1024 * 1024
                                               and ratio > _ZIP_MAX_RATIO):
                    return "Office 文件解压后过大（疑似压缩炸弹），不予接收。"
                name = member.filename
                if name.startswith("/") or ".." in name.split("/"):
                    return "Office 文件结构异常，不予接收。"
                if _RISKY_MEMBER.search(name):
                    return refused
            types = archive.read("[Content_Types].xml").lower()
            if any(t.encode() in types for t in _MACRO_TYPES):
                return refused
            for member in members:
                if member.filename.endswith(".rels") and _EXTERNAL_RISKY.search(
                        archive.read(member)):
                    return refused
            if archive.testzip() is not None:
                return "Office 文件已损坏，请重新保存后上传。"
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, NotImplementedError):
        return "Office 文件已损坏，请重新保存后上传。"
    return None


def _ole(path: Path) -> str | None:
    # Stream and storage names in a compound file's directory are UTF-16LE, NUL-padded.
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for name in _OLE_MACRO_STREAMS:
            needle = name.encode("utf-16-le") + b"\x00\x00"
            if data.find(needle) >= 0 or data.find(b"\x01" + b"\x00" + needle) >= 0:
                return ("Word/Excel 97-2003 文件含有宏或嵌入对象，不予接收。"
                        "请另存为不含宏的 .docx/.xlsx 或 PDF 后上传。")
    return None


_CHECKS = {
    "pdf": _pdf,
    "jpeg": lambda path: _image(path, "jpeg"),
    "png": lambda path: _image(path, "png"),
    "docx": _ooxml,
    "xlsx": _ooxml,
    "doc": _ole,
    "xls": _ole,
}
