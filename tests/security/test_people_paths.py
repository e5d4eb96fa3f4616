"""Paths around the door that copy a person somewhere (attack wave 2): a frozen document, a
register line, a watch-list entry, a notice... Each test names the path and the viewer who may
see the case but not the person."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from tests.api.world import client_as
from tests.conftest import register_in, sh
from tests.documents.cases import MAIN, SECRET, issued, walk
from tests.documents.test_instruments import text_of
from tests.web.conftest import signed_in
from xinfang.cases.models import Case
from xinfang.cases.services import PetitionerInput, perform
from xinfang.practices.services.watch import watch_add
from xinfang.security.services import recusal_declare

pytestmark = pytest.mark.django_db

MAIN_SECRETS = (MAIN.name, MAIN.id_number, MAIN.phone, MAIN.address)
SECRETS = (SECRET.name, SECRET.id_number, SECRET.phone, SECRET.address)


def zipped_text(data: bytes) -> str:
    """Every document inside a case file, as text."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(text_of(z.read(n)) for n in z.namelist() if n.endswith(".docx"))


def leaked(text: str, secrets=MAIN_SECRETS) -> list[str]:
    return [value for value in secrets if value and value in text]


def test_a_document_frozen_before_the_person_asked_for_confidentiality_masks_her_now(jianan):
    # given: 张三明 came openly; the office froze the acceptance notice for every audience
    case = walk(jianan, until="record_pledge")
    issued(case, "D1")
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


# -- the watch list (重点人员) ------------------------------------------------------------------


def watched(j, person=SECRET):
    """A case of ``person`` handled by 将官池镇, its person on the county's watch list."""
    case = walk(j, until="assign", petitioners=[MAIN, person] if person is SECRET else [person])
    link = next(lk for lk in case.petitioner_links.select_related("petitioner")
                if lk.petitioner.name == person.name)
    entry = watch_add(by=j.member("approver"), case_id=case.pk, petitioner_id=link.petitioner_id,
                      owner_id=j.member("township").pk, reason="多次到省进京", plan="包案稳控",
                      status="unstable")
    return case, link.petitioner, entry


def test_a_clerk_recused_from_a_person_neither_finds_nor_reveals_them_on_the_watch_list(jianan):
    # given: the approver listed 李秀英; the clerk is her cousin and recused from her
    case, person, entry = watched(jianan)
    recusal_declare(user=jianan.member("clerk").user, petitioner=person, reason="信访人系本人表妹")
    clerk = signed_in(jianan.member("clerk"))
    # when / then: the list does not name her case, her entry is not there, nor its reveal
    listing = clerk.get("/practices/watch/").content.decode()
    assert case.number not in listing and f"/practices/watch/{entry.pk}/" not in listing
    assert clerk.get(f"/practices/watch/{entry.pk}/").status_code == 404
    reveal = clerk.post(f"/practices/watch/{entry.pk}/", {"action": "reveal", "v-reason": "核实"})
    assert reveal.status_code == 404 and leaked(reveal.content.decode(), SECRETS) == []
    api = client_as(jianan.member("clerk")).get("/api/practices/watch/").content.decode()
    assert case.number not in api
    # The approver, not recused, still keeps her and may reveal her.
    approver = signed_in(jianan.member("approver"))
    shown = approver.post(f"/practices/watch/{entry.pk}/", {"action": "reveal", "v-reason": "核实"})
    assert SECRET.name in shown.content.decode()


def test_the_office_above_lists_a_county_person_masked_and_cannot_reveal_them(jianan):
    # given: a county case the city's petition office may read (masked: reveal_reach NONE)
    case = walk(jianan, until="assign", petitioners=[MAIN, SECRET])
    city = signed_in(jianan.member("city_clerk"))
    # when: the city clerk starts listing one of its people as a key person
    form = city.get(f"/practices/watch/?case_number={case.number}")
    # then: the people to choose from are masked, as on the case page
    assert form.status_code == 200
    page = form.content.decode()
    assert leaked(page) == [] and leaked(page, SECRETS) == [] and "张*明" in page
    # and one listed anyway is not revealed to the city through its own list
    link = case.petitioner_links.get(role="main")
    owner = jianan.member("city_clerk")
    entry = watch_add(by=owner, case_id=case.pk, petitioner_id=link.petitioner_id,
                      owner_id=owner.pk, reason="越级到市", plan="稳控", status="unstable")
    shown = city.post(f"/practices/watch/{entry.pk}/", {"action": "reveal", "v-reason": "核实"})
    assert leaked(shown.content.decode()) == []
    # The county's own office still chooses among them in clear.
    county = signed_in(jianan.member("clerk")).get(f"/practices/watch/?case_number={case.number}")
    assert MAIN.name in county.content.decode() and SECRET.name in county.content.decode()


# -- linking a person at registration -----------------------------------------------------------


def test_the_office_above_cannot_link_a_county_person_into_its_own_case_to_reveal_them(jianan):
    from tests.web.test_flows import registration_data

    # given: a county case with a confidential companion; the city's office reads it masked
    case = walk(jianan, until="assign", petitioners=[MAIN, SECRET])
    secret = next(lk.petitioner for lk in case.petitioner_links.select_related("petitioner")
                  if lk.confidential)
    city = signed_in(jianan.member("city_clerk"))
    # when: the city clerk registers a petition "of the same person", linking her by her id
    data = registration_data(jianan, **{"p-0-name": "某某", "p-0-id_number": "",
                                        "p-0-phone": "", "p-0-address": "",
                                        "p-0-link": str(secret.pk), "p-TOTAL_FORMS": "1"})
    answer = city.post(reverse("web:register"), data)
    assert answer.status_code in (200, 302, 400)
    # then: no city case holds her, and nothing the city may reveal shows her
    mine = Case.objects.filter(jurisdiction=jianan.city)
    for own in mine:
        shown = city.post(reverse("web:case_reveal", args=[own.pk]),
                          {"petitioner": secret.pk, "reason": "核实身份"})
        assert leaked(shown.content.decode(), SECRETS) == []
        assert not own.petitioner_links.filter(petitioner=secret).exists()


# -- the delivery receipt (送达回证) ------------------------------------------------------------


def test_a_receipt_delivered_to_a_confidential_companion_masks_her_in_the_units_copy(jianan):
    # given: the reply was handed to the confidential companion, 李秀英
    case = walk(jianan, until="issue_letter", petitioners=[MAIN, SECRET])
    perform("record_delivery", case=case, by=jianan.member("clerk"),
            expected_version=case.version, mode="in_person", delivered_at=sh(2026, 9, 30, 10),
            deliverer="陈晓东", recipient=SECRET.name, receipt_signed=True)
    issued(case, "D3")
    # when: the assisting bureau reads the receipt
    receipt = signed_in(jianan.member("bureau")).get(f"/cases/{case.pk}/documents/D3.docx")
    # then: she is masked there as everywhere else for the unit
    assert receipt.status_code == 200
    assert leaked(text_of(receipt.content), SECRETS) == [] and "李*英" in text_of(receipt.content)
    full = signed_in(jianan.member("clerk")).get(f"/cases/{case.pk}/documents/D3.docx")
    assert SECRET.name in text_of(full.content)
