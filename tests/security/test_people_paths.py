"""Paths around the door that copy a person somewhere (attack wave 2): a frozen document, a
register line, a watch-list entry, a notice... Each test names the path and the viewer who may
see the case but not the person."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.api.world import client_as
from tests.conftest import register_in
from tests.documents.cases import MAIN, walk
from tests.documents.test_instruments import text_of
from tests.web.conftest import signed_in
from xinfang.cases.services import PetitionerInput

pytestmark = pytest.mark.django_db

MAIN_SECRETS = (MAIN.name, MAIN.id_number, MAIN.phone, MAIN.address)


def zipped_text(data: bytes) -> str:
    """Every document inside a case file, as text."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(text_of(z.read(n)) for n in z.namelist() if n.endswith(".docx"))


def leaked(text: str, secrets=MAIN_SECRETS) -> list[str]:
    return [value for value in secrets if value and value in text]


def test_a_document_frozen_before_the_person_asked_for_confidentiality_masks_her_now(jianan):
    # given: 张三明 came openly; the office froze the acceptance notice for every audience
    case = walk(jianan, until="record_pledge")
    clerk = signed_in(jianan.member("clerk"))
    assert clerk.get(f"/cases/{case.pk}/documents/D1.docx").status_code == 200
    # when: he petitions again and asks that his identity be kept from the units
    register_in(jianan, matter="反映低保评定不公", confidential=True,
                petitioners=[PetitionerInput(name=MAIN.name, id_number=MAIN.id_number,
                                             phone=MAIN.phone, address=MAIN.address)])
    # then: the units handling the first case read him masked there, the documents included
    for role in ("township", "bureau"):
        page = signed_in(jianan.member(role)).get(f"/cases/{case.pk}/")
        assert leaked(page.content.decode()) == [], role
        web = signed_in(jianan.member(role)).get(f"/cases/{case.pk}/documents/D1.docx")
        assert web.status_code == 200, role
        assert leaked(text_of(web.content)) == [], role
        api = client_as(jianan.member(role)).get(f"/api/cases/{case.pk}/documents/D1/docx/")
        assert leaked(text_of(api.content)) == [], role
        archive = signed_in(jianan.member(role)).get(f"/cases/{case.pk}/archive.zip")
        assert archive.status_code == 200, role
        assert leaked(zipped_text(b"".join(archive.streaming_content)
                                  if archive.streaming else archive.content)) == [], role
    # The office still reads him in clear.
    assert MAIN.name in text_of(clerk.get(f"/cases/{case.pk}/documents/D1.docx").content)
