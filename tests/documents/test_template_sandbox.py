"""An uploaded template is filled in a sandbox: its tags reach the fields it is given, nothing
of the server behind them (the system administrator who uploads it may not run code there)."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from docx import Document as Docx

from tests.documents.cases import walk
from tests.documents.test_instruments import text_of
from tests.web.conftest import signed_in
from xinfang.cases.errors import Refused
from xinfang.documents.models import Audience, DocumentTemplate, Format
from xinfang.documents.rendering import repository_template, sha256
from xinfang.documents.services import document_issue, template_replace

pytestmark = pytest.mark.django_db

# Each reaches past a field into Python: a module's globals, a class's subclasses.
ESCAPES = [
    "{{ case_number.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.getcwd() }}",
    "{{ lipsum.__globals__['os'].environ }}",
]


def hostile(tag: str) -> bytes:
    doc = Docx(io.BytesIO(repository_template("D1")))
    doc.paragraphs[0].insert_paragraph_before("信头 " + tag)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize("tag", ESCAPES)
def test_an_upload_reaching_past_its_fields_is_refused(jianan, tag):
    with pytest.raises(Refused, match="模板") as refused:
        template_replace(code="D1", content=hostile(tag), by=jianan.member("sysadmin"))
    assert refused.value.field == "template"
    assert not DocumentTemplate.objects.exists()


def test_a_hostile_template_already_stored_issues_nothing_and_runs_nothing(jianan):
    """A row written before the check (or by hand in the database) is refused when used."""
    content = hostile("{{ cycler.__init__.__globals__.os.getcwd() }}")
    DocumentTemplate.objects.create(
        code="D1", version=1, content=content, sha256=sha256(content), original_name="d1.docx",
        uploaded_at=timezone.now(), uploaded_by=jianan.member("sysadmin").user,
    )  # fmt: skip
    case = walk(jianan, until="deliver_acceptance_notice")
    with pytest.raises(Refused, match="第1版模板") as refused:
        document_issue(case=case, code="D1", by=jianan.member("clerk"))
    assert refused.value.field == "code"
    assert not case.issued_documents.exists()


def test_the_office_template_still_fills_its_fields(jianan):
    case = walk(jianan, until="deliver_acceptance_notice")
    doc = document_issue(case=case, code="D1", by=jianan.member("clerk"))
    text = text_of(bytes(doc.renditions.get(audience=Audience.FULL, format=Format.DOCX).content))
    assert case.number in text and "{{" not in text


@pytest.mark.parametrize(
    "tag, what",
    [
        ("{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}", "循环"),
        ("{{ case_number * 999999999 }}", "运算"),
        ("{{ case_number|wordcount }}", "过滤器"),
        ("{% if case_number %}x{% endif %}", "条件"),
    ],
)
def test_an_upload_holding_more_than_fields_is_refused_naming_what(jianan, tag, what):
    """Nothing but text and {{ fields }}: a loop or an operator could keep a worker busy."""
    assert "字段一律写作 {{ 字段名 }}" in signed_in(jianan.member("sysadmin")).get(
        "/admin/templates/").content.decode()  # the page says so before the upload
    with pytest.raises(Refused, match=f"不能使用{what}"):
        template_replace(code="D1", content=hostile(tag), by=jianan.member("sysadmin"))
    assert not DocumentTemplate.objects.exists()


def test_a_tag_in_the_document_properties_is_refused_on_upload(jianan):
    """The fields' lookup does not read the title property; the fill does."""
    doc = Docx(io.BytesIO(repository_template("D1")))
    doc.core_properties.title = "{{ cycler.__init__.__globals__ }}"
    out = io.BytesIO()
    doc.save(out)
    with pytest.raises(Refused, match="不能使用属性"):
        template_replace(code="D1", content=out.getvalue(), by=jianan.member("sysadmin"))
