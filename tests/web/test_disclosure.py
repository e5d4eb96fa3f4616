"""Seed 000 §九 on the case page: a leader instruction is read only by the roles the profile names,
and a confidential petitioner is never revealed to the unit handling the case."""

import pytest
from django.urls import reverse

from tests.api.world import walk
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db

INSTRUCTION = "请某某同志亲自督办此件"


def test_the_office_reads_a_leader_instruction_the_township_does_not(jianan):
    case = walk(
        jianan,
        "in_progress",
        source_level="city",
        source_office="许昌市乡村振兴局",
        leader_instruction=INSTRUCTION,
        leader_instruction_level="city",
    )
    url = reverse("web:case", args=[case.pk])
    assert INSTRUCTION in signed_in(jianan.member("approver")).get(url).content.decode()
    page = signed_in(jianan.member("township")).get(url).content.decode()
    assert INSTRUCTION not in page and "领导批示内容不公开" in page


def test_a_confidential_petitioner_cannot_be_revealed_to_the_handling_unit(jianan):
    case = walk(jianan, "in_progress", confidential=True)
    petitioner = case.petitioner_links.get().petitioner
    url = reverse("web:case_reveal", args=[case.pk])
    township = signed_in(jianan.member("township"))
    response = township.post(url, {"petitioner": petitioner.pk, "reason": "核实身份"})
    assert response.status_code == 403
    assert (
        petitioner.id_number
        not in township.get(reverse("web:case", args=[case.pk])).content.decode()
    )
    clerk = signed_in(jianan.member("clerk"))
    assert clerk.post(url, {"petitioner": petitioner.pk, "reason": "核实身份"}).status_code == 200
