"""Templates replaced by the system administrator: a missing field is refused by name; versions."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document as Docx

from tests.documents.cases import walk
from tests.documents.test_instruments import text_of
from tests.web.conftest import signed_in
from xinfang.cases.errors import Refused
from xinfang.documents.models import Audience, DocumentTemplate, Format
from xinfang.documents.rendering import repository_template
from xinfang.documents.services import document_correct, document_issue, template_replace

pytestmark = pytest.mark.django_db


def office_template(*, drop: str = "", letterhead: str = "建安区乡村振兴局信访文书") -> bytes:
    """The repository's D1 with the office's letterhead on top, optionally losing one field."""
    doc = Docx(io.BytesIO(repository_template("D1")))
    doc.paragraphs[0].insert_paragraph_before(letterhead)
    if drop:
        paragraphs = list(doc.paragraphs)
        for table in doc.tables:
            for row in table.rows:
                for cell in row.cells:
                    paragraphs.extend(cell.paragraphs)
        for p in paragraphs:
            for run in p.runs:
                run.text = run.text.replace("{{ " + drop + " }}", "")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_a_template_missing_a_field_is_refused_naming_the_field(jianan):
    with pytest.raises(Refused, match=r"缺少.*\{\{ case_number \}\}") as refused:
        template_replace(
            code="D1", content=office_template(drop="case_number"), by=jianan.member("sysadmin")
        )
    assert refused.value.field == "case_number"
    assert not DocumentTemplate.objects.exists()


def test_only_the_system_administrator_replaces_templates_and_not_with_junk(jianan):
    with pytest.raises(Refused, match="系统管理员"):
        template_replace(code="D1", content=office_template(), by=jianan.member("clerk"))
    with pytest.raises(Refused, match="不是有效的 Word"):
        template_replace(code="D1", content=b"MZ\x90\x00 not a docx", by=jianan.member("sysadmin"))


def test_the_template_in_force_is_versioned_and_issued_documents_keep_theirs(jianan):
    admin = jianan.member("sysadmin")
    case = walk(jianan, until="deliver_acceptance_notice")
    before = document_issue(case=case, code="D1", by=jianan.member("clerk"))
    assert before.template_version == 0
    first = template_replace(code="D1", content=office_template(), by=admin)
    second = template_replace(code="D1", content=office_template(letterhead="第二版信头"), by=admin)
    assert (first.version, second.version) == (1, 2)
    assert DocumentTemplate.objects.filter(code="D1").count() == 2
    # the frozen v1 document is untouched; a correction uses the template now in force
    assert "第二版信头" not in text_of(
        bytes(before.renditions.get(audience=Audience.FULL, format=Format.DOCX).content)
    )
    corrected = document_correct(
        case=case, code="D1", by=jianan.member("clerk"), reason="换用本单位信头"
    )
    assert corrected.template_version == 2
    assert "第二版信头" in text_of(
        bytes(corrected.renditions.get(audience=Audience.FULL, format=Format.DOCX).content)
    )


def test_the_admin_page_refuses_the_missing_field_and_accepts_a_good_template(jianan):
    client = signed_in(jianan.member("sysadmin"))
    assert client.get("/admin/templates/").status_code == 200
    bad = client.post(
        "/admin/templates/",
        {"code": "D1", "file": SimpleUploadedFile("d1.docx", office_template(drop="query_code"))},
    )
    assert bad.status_code == 400 and "query_code" in bad.content.decode()
    good = client.post(
        "/admin/templates/",
        {"code": "D1", "file": SimpleUploadedFile("d1.docx", office_template())},
    )
    assert good.status_code == 302
    assert DocumentTemplate.objects.get().original_name == "d1.docx"
    assert signed_in(jianan.member("clerk")).get("/admin/templates/").status_code in (302, 403)


def test_the_case_number_cell_is_wide_enough_and_does_not_wrap():
    """D1/D2's six columns fill the 156 mm between GB/T 9704's margins, in the table grid that
    LibreOffice lays out from, and the case number, ID number and phones are no-wrap cells."""
    import io

    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm

    from xinfang.documents.rendering import repository_template

    for code in ("D1", "D2"):
        table = Document(io.BytesIO(repository_template(code))).tables[0]
        widths = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert abs(sum(widths) - Mm(156).twips) < 10 and widths[1] >= Mm(42).twips - 1, widths
        number = table.cell(0, 1)
        assert "{{ case_number }}" in number.text
        assert number._tc.tcPr.find(qn("w:noWrap")) is not None
