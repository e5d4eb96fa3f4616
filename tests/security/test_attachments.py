"""Attachments are checked by their bytes, stored under generated names, and checked again on
every open."""

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xinfang.audit import services as audit
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.cases.services.attachments import (
    AttachmentDamaged,
    attachment_add,
    attachment_download,
    attachment_open,
    clean_filename,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
OLE = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(100)


def ooxml(main_part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(main_part, "<x/>")
    return buffer.getvalue()


@pytest.fixture
def case(register):
    return register()


@pytest.fixture
def clerk(jianan):
    return jianan.member("clerk")


def add(case, clerk, name, content, **kw):
    return attachment_add(case=case, by=clerk, upload=SimpleUploadedFile(name, content), **kw)


def stored_path(settings, attachment) -> Path:
    return Path(settings.ATTACHMENT_ROOT) / attachment.stored_name


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("现场照片.png", PNG, "image/png"),
    ("答复意见书.pdf", PDF, "application/pdf"),
    ("证明.JPG", b"\xff\xd8\xff\xe0" + bytes(50), "image/jpeg"),
    ("情况说明.docx", ooxml("word/document.xml"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("台账.xlsx", ooxml("xl/workbook.xml"),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("旧材料.doc", OLE + "WordDocument".encode("utf-16-le"), "application/msword"),
    ("旧台账.xls", OLE + "Workbook".encode("utf-16-le"), "application/vnd.ms-excel"),
    ("说明.txt", "反映情况：补助未到位。\n".encode(), "text/plain"),
    ("gbk.txt", "反映情况".encode("gb18030"), "text/plain"),
], ids=lambda value: value if isinstance(value, str) and "/" not in value else "")
def test_accepted_types_are_stored_with_their_sniffed_type_and_checksum(
        case, clerk, settings, name, content, content_type):
    import hashlib

    attachment = add(case, clerk, name, content, description="信访人提交")

    assert attachment.content_type == content_type
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.original_name == name
    assert stored_path(settings, attachment).read_bytes() == content


def test_adding_writes_the_case_history(case, clerk):
    attachment = add(case, clerk, "现场照片.png", PNG)

    event = case.events.get(type="attachment_added")
    assert event.payload["attachment"] == attachment.pk
    assert event.payload["sha256"] == attachment.sha256
    assert event.actor == clerk.user


def test_a_path_in_the_file_name_never_reaches_the_disk(case, clerk, settings):
    attachment = add(case, clerk, "../../etc/passwd.txt", b"root:x:0:0\n")

    assert re.fullmatch(r"\d{4}/[0-9a-f]{32}", attachment.stored_name)
    assert attachment.original_name == "passwd.txt"
    path = stored_path(settings, attachment).resolve()
    assert path.is_relative_to(Path(settings.ATTACHMENT_ROOT).resolve())
    assert "passwd" not in str(path)


@pytest.mark.parametrize(("given", "kept"), [
    ("..\\..\\windows\\system32\\cmd.txt", "cmd.txt"),
    ("/etc/passwd", "passwd"),
    ("报告\x00.pdf", "报告.pdf"),
    ("照片\u202egnp.exe", "照片gnp.exe"),  # right-to-left override stripped
    ("a\r\nb.txt", "ab.txt"),
    ("..", "附件"),
])
def test_the_kept_file_name_loses_path_separators_and_control_characters(given, kept):
    assert clean_filename(given) == kept


def test_a_file_over_the_limit_is_refused_with_the_limit_named(case, clerk, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024

    with pytest.raises(Refused, match="不能超过 1 KB") as refused:
        add(case, clerk, "大图.png", PNG + bytes(2000))

    assert refused.value.field == "file"
    assert not case.attachments.exists()


def test_a_declared_size_that_lies_does_not_get_past_the_limit(case, clerk, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    upload = SimpleUploadedFile("大图.png", PNG + bytes(2000))
    upload.size = 10

    with pytest.raises(Refused, match="不能超过"):
        attachment_add(case=case, by=clerk, upload=upload)

    leftovers = [p for p in Path(settings.ATTACHMENT_ROOT).rglob("*") if p.is_file()]
    assert not any(p.name.startswith(".upload-") for p in leftovers)


def test_an_executable_renamed_jpg_is_refused(case, clerk):
    with pytest.raises(Refused, match="不支持这种文件"):
        add(case, clerk, "照片.jpg", EXE)

    assert not case.attachments.exists()


def test_a_png_named_pdf_is_refused(case, clerk):
    with pytest.raises(Refused, match="扩展名“.pdf”与文件内容（PNG 图片）不符"):
        add(case, clerk, "答复.pdf", PNG)


@pytest.mark.parametrize(("name", "content"), [
    ("空.txt", b""),
    ("zip.docx", ooxml("other.xml")),
    ("binary.txt", b"abc\x00def"),
    ("ctrl.txt", b"abc\x1b[31mdef"),
    ("noext", b"plain words"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_other_content_is_refused(case, clerk, name, content):
    with pytest.raises(Refused):
        add(case, clerk, name, content)


def test_open_returns_the_bytes_after_checking_them(case, clerk):
    attachment = add(case, clerk, "答复意见书.pdf", PDF)

    with attachment_open(attachment) as f:
        assert f.read() == PDF


def test_open_refuses_a_file_changed_on_disk(case, clerk, settings):
    attachment = add(case, clerk, "答复意见书.pdf", PDF)
    stored_path(settings, attachment).write_bytes(PDF.replace(b"Catalog", b"Catalop"))

    with pytest.raises(AttachmentDamaged, match="校验值不符"):
        attachment_open(attachment)


def test_open_refuses_a_stored_name_that_is_a_path(case, clerk):
    attachment = add(case, clerk, "答复意见书.pdf", PDF)
    attachment.stored_name = "../../etc/passwd"

    with pytest.raises(AttachmentDamaged):
        attachment_open(attachment)


def test_download_is_audited(case, clerk):
    attachment = add(case, clerk, "现场照片.png", PNG)

    with attachment_download(attachment=attachment, by=clerk, ip="198.51.100.4") as f:
        assert f.read() == PNG

    entry = AuditEntry.objects.get(action=audit.DOWNLOAD)
    assert (entry.actor_id, entry.object_id, entry.ip) == (
        clerk.user.pk, str(attachment.pk), "198.51.100.4")
