"""Attachments are checked by their bytes, stored under generated names, and checked again on
every open."""

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

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


def image(fmt: str, size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def pdf(build=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if build:
        build(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PNG = image("PNG")
JPEG = image("JPEG")
PDF = pdf()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
OLE = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(100)


def ooxml(main_part: str, extra: dict | None = None, types: str = "<Types/>") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr(main_part, "<x/>")
        for name, body in (extra or {}).items():
            z.writestr(name, body)
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
    ("证明.JPG", JPEG, "image/jpeg"),
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


# -- past the magic bytes: polyglots and active content (issue 8) ---------------------------------


def zip_bytes(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buffer.getvalue()


def open_action_js(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("app.launchURL('http://example.invalid')"),
    })


def launch_action(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"),
        NameObject("/F"): TextStringObject("cmd.exe"),
    })


def embedded_file(writer):
    writer.add_attachment("payload.exe", EXE)


def encrypted(writer):
    writer.encrypt("open-sesame")


REFUSED = [
    # the attack: a PDF header followed by an executable
    ("答复.pdf", b"%PDF-1.4\n" + EXE, "无法完整解析"),
    ("答复.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "无法完整解析"),
    # a valid PDF with an executable or a ZIP archive glued after it
    ("答复.pdf", PDF + EXE, "结尾之后"),
    ("答复.pdf", PDF + zip_bytes({"run.exe": EXE}), "结尾之后"),
    # PDFs that act instead of being read
    ("答复.pdf", pdf(open_action_js), "/JavaScript"),
    ("答复.pdf", pdf(launch_action), "/Launch"),
    ("答复.pdf", pdf(embedded_file), "嵌入文件"),
    ("答复.pdf", pdf(encrypted), "已加密"),
    # pictures with something after their end, or that do not decode
    ("照片.png", PNG + zip_bytes({"run.exe": EXE}), "附带了其他数据"),
    ("照片.jpg", JPEG + EXE, "附带了其他数据"),
    ("照片.png", PNG[:-30] + PNG[-12:], "无法完整解码"),
    ("照片.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "无法完整解码"),
    ("照片.jpg", b"\xff\xd8\xff\xe0" + bytes(50), "无法完整解码"),
    # Office files with macros, embedded objects, executables or an outside template
    ("材料.docx", ooxml("word/document.xml", {"word/vbaProject.bin": b"\x00" * 64}), "宏"),
    ("台账.xlsx", ooxml("xl/workbook.xml", types=(
        '<Types><Override ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
        "</Types>")), "宏"),
    ("材料.docx", ooxml("word/document.xml", {"word/embeddings/oleObject1.bin": OLE}), "嵌入"),
    ("材料.docx", ooxml("word/document.xml", {"word/media/run.exe": EXE}), "宏"),
    ("材料.docx", ooxml("word/document.xml", {"word/_rels/settings.xml.rels": (
        '<Relationships><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/attachedTemplate" Target="http://example.invalid/'
        't.dotm" TargetMode="External"/></Relationships>')}), "外部模板"),
    ("材料.docx", ooxml("word/document.xml", {"word/media/zeros.bin": bytes(4 * 1024 * 1024)}),
     "压缩炸弹"),
    # Word/Excel 97-2003 with macro storages
    ("旧材料.doc", OLE + "WordDocument".encode("utf-16-le") + "Macros".encode("utf-16-le")
     + bytes(4), "宏"),
    ("旧台账.xls", OLE + "Workbook".encode("utf-16-le") + "_VBA_PROJECT_CUR".encode("utf-16-le")
     + bytes(4), "宏"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED,
                         ids=[f"{i}-{m}" for i, (_, _, m) in enumerate(REFUSED)])
def test_a_polyglot_or_active_file_is_refused_past_its_magic_bytes(
        case, clerk, settings, tmp_path, name, content, message):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    with pytest.raises(Refused, match=message) as refused:
        add(case, clerk, name, content)

    assert refused.value.field == "file"
    assert not case.attachments.exists()
    assert not [p for p in Path(settings.ATTACHMENT_ROOT).rglob("*") if p.is_file()]


def test_a_phone_photo_with_a_second_picture_after_the_first_is_accepted(case, clerk):
    # multi-picture JPEGs (MPF: a depth map or preview after the main image) are common
    attachment = add(case, clerk, "手机照片.jpg", JPEG + image("JPEG", (4, 4)))

    assert attachment.content_type == "image/jpeg"


def test_a_decompression_bomb_is_refused(case, clerk, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)

    with pytest.raises(Refused, match="像素过多"):
        add(case, clerk, "大图.png", image("PNG", (40, 40)))


def test_an_office_file_with_ordinary_hyperlinks_is_accepted(case, clerk):
    content = ooxml("word/document.xml", {"word/_rels/document.xml.rels": (
        '<Relationships><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/hyperlink" Target="https://www.gov.cn/" '
        'TargetMode="External"/></Relationships>')})

    assert add(case, clerk, "情况说明.docx", content).size == len(content)


def test_attachments_are_stored_owner_only(case, clerk, settings):
    import stat

    attachment = add(case, clerk, "现场照片.png", PNG)

    path = stored_path(settings, attachment)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(settings.ATTACHMENT_ROOT).stat().st_mode) == 0o700
