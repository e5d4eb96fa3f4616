"""Attachments: checked on the way in, stored under names the user never chooses, checked again on
the way out.

An upload is accepted only if its bytes are one of the types below (the browser's claimed content
type is ignored), its extension names that same type — an ``.exe`` renamed ``.jpg`` is refused —
and it parses whole as that type, with nothing active and nothing appended (``upload_checks``).
The file is stored as ``ATTACHMENT_ROOT/<year>/<uuid4 hex>``; the user's file name survives only as
metadata, without path separators or control characters. The SHA-256 recorded at upload is
re-checked on every open.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from xinfang.audit.services import DOWNLOAD, audit_record
from xinfang.org.models import Membership

from ..errors import Refused
from ..models import Attachment, Case
from . import upload_checks
from .base import append_event, now


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]


TYPES = {
    "jpeg": FileType("JPEG 图片", "image/jpeg", (".jpg", ".jpeg")),
    "png": FileType("PNG 图片", "image/png", (".png",)),
    "pdf": FileType("PDF 文档", "application/pdf", (".pdf",)),
    "docx": FileType(
        "Word 文档", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    "xlsx": FileType(
        "Excel 表格", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
    "doc": FileType("Word 97-2003 文档", "application/msword", (".doc",)),
    "xls": FileType("Excel 97-2003 表格", "application/vnd.ms-excel", (".xls",)),
    "text": FileType("纯文本", "text/plain", (".txt",)),
}
ACCEPTED = "、".join(
    f"{t.label}（{'/'.join(t.extensions)}）" for t in TYPES.values()
)

_CHUNK = 1024 * 1024
_STORED_NAME = re.compile(r"^\d{4}/[0-9a-f]{32}$")
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_TEXT_CONTROLS_ALLOWED = {"\t", "\n", "\r", "\f"}


class AttachmentDamaged(Refused):
    """The stored file is missing or no longer matches its checksum."""


# -- adding ---------------------------------------------------------------------------------------


def attachment_add(
    *, case: Case, by: Membership, upload: UploadedFile, description: str = "",
    at: datetime | None = None,
) -> Attachment:
    at = at or now()
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise Refused(_too_large(limit, upload.size), field="file")
    name = clean_filename(upload.name or "")
    extension = os.path.splitext(name)[1].lower()

    root = Path(settings.ATTACHMENT_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)  # the root too, whatever the umask
    year_dir = root / f"{at:%Y}"
    year_dir.mkdir(mode=0o700, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=year_dir)  # mode 0600
    tmp = Path(tmp_name)
    try:
        size, sha256 = _copy_counting(upload, fd, limit)
        if size == 0:
            raise Refused("文件为空，未上传。", field="file")
        kind = sniff(tmp)
        if kind is None:
            raise Refused(f"不支持这种文件。可上传的类型：{ACCEPTED}。", field="file")
        file_type = TYPES[kind]
        if extension not in file_type.extensions:
            raise Refused(
                f"文件名的扩展名“{extension or '（无）'}”与文件内容（{file_type.label}）不符，"
                f"请确认文件后重新上传。", field="file",
            )
        problem = upload_checks.inspect(tmp, kind)  # parsed whole, not judged by its first bytes
        if problem:
            raise Refused(problem, field="file")
        stored_name = f"{at:%Y}/{uuid.uuid4().hex}"
        os.link(tmp, root / stored_name)  # fails rather than overwrite, should a uuid repeat
        try:
            with transaction.atomic():
                locked = Case.objects.select_for_update().get(pk=case.pk)
                attachment = Attachment.objects.create(
                    case=locked, original_name=name, stored_name=stored_name,
                    content_type=file_type.content_type, size=size, sha256=sha256,
                    description=description[:200], uploaded_at=at, uploaded_by=by.user,
                )
                append_event(
                    case=locked, type="attachment_added", by=by, at=at,
                    payload={"attachment": attachment.pk, "name": name,
                             "content_type": file_type.content_type, "size": size,
                             "sha256": sha256},
                )
        except BaseException:
            (root / stored_name).unlink(missing_ok=True)
            raise
        return attachment
    finally:
        tmp.unlink(missing_ok=True)


def clean_filename(name: str) -> str:
    """The user's file name as metadata: the last path component, without control or
    format characters (a right-to-left override can make ``gpj.exe`` read as ``exe.jpg``)."""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"})
    name = unicodedata.normalize("NFC", name).strip().strip(".") or "附件"
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext)] + ext
    return name


def _too_large(limit: int, size: int | None = None) -> str:
    actual = f"，本文件 {human_size(size)}" if size is not None else ""
    return f"附件不能超过 {human_size(limit)}{actual}。"


def human_size(n: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} 字节"


def _copy_counting(upload: UploadedFile, fd: int, limit: int) -> tuple[int, str]:
    """Copy the upload into ``fd``; never trust the declared size."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        upload.seek(0)
        for chunk in upload.chunks(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise Refused(_too_large(limit), field="file")
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


# -- sniffing -------------------------------------------------------------------------------------


def sniff(path: Path) -> str | None:
    """The key in ``TYPES`` that the file's bytes show it to be, or ``None``."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_ooxml(path)
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(path)
    if _is_text(path):
        return "text"
    return None


def _sniff_ooxml(path: Path) -> str | None:
    # Only the central directory is read: nothing is decompressed, so a zip bomb costs nothing.
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def _sniff_ole(path: Path) -> str | None:
    # The compound file's directory holds stream names in UTF-16LE: Word keeps its text in a
    # "WordDocument" stream, Excel in "Workbook" (or "Book" before Excel 97).
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find("WordDocument".encode("utf-16-le")) >= 0:
            return "doc"
        if data.find("Workbook".encode("utf-16-le")) >= 0 or data.find(
                "Book\x00".encode("utf-16-le")) >= 0:
            return "xls"
    return None


def _is_text(path: Path) -> bool:
    """UTF-8 (with or without BOM) or GB18030, the two encodings Chinese offices' text is in,
    and no control characters beyond tab, line and page breaks."""
    data = path.read_bytes()
    if b"\x00" in data:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(
            unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS_ALLOWED for ch in text
        )
    return False


# -- opening --------------------------------------------------------------------------------------


def attachment_path(attachment: Attachment) -> Path:
    if not _STORED_NAME.match(attachment.stored_name):
        raise AttachmentDamaged("附件存储名异常，拒绝读取。", field="file")
    return Path(settings.ATTACHMENT_ROOT) / attachment.stored_name


def attachment_open(attachment: Attachment) -> IO[bytes]:
    """The stored file, opened for reading, after its checksum has been verified."""
    try:
        f = open(attachment_path(attachment), "rb")  # noqa: SIM115 - handed to the caller
    except FileNotFoundError:
        raise AttachmentDamaged("附件文件不存在，请联系系统管理员。", field="file") from None
    digest = hashlib.sha256()
    for chunk in iter(lambda: f.read(_CHUNK), b""):
        digest.update(chunk)
    if digest.hexdigest() != attachment.sha256:
        f.close()
        raise AttachmentDamaged("附件文件校验值不符（已损坏或被改动），请联系系统管理员。",
                                field="file")
    f.seek(0)
    return f


def attachment_download(*, attachment: Attachment, by: Any, ip: str = "") -> IO[bytes]:
    """Open an attachment for a user who may download it (the caller checked) and audit it.
    ``by`` is the acting membership or user."""
    f = attachment_open(attachment)
    audit_record(
        action=DOWNLOAD, actor=getattr(by, "user", by), ip=ip, object_type="attachment",
        object_id=attachment.pk,
        detail={"case": attachment.case_id, "name": attachment.original_name,
                "sha256": attachment.sha256},
    )
    return f
