"""A representative is a petitioner: one registered alone makes a case, and every list names them
(issue 15: "至少登记一名信访人" refused a representative alone)."""

import re

import pytest
from django.urls import reverse

from tests.conftest import id_number
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services import PetitionerInput

from .conftest import signed_in
from .test_flows import registration_data

pytestmark = pytest.mark.django_db


def representative(name="李代表", role=c.PetitionerRole.REPRESENTATIVE):
    return PetitionerInput(name=name, id_number=id_number("41102319700101123"), role=role)


def test_a_representative_alone_is_registered_and_named(jianan, register):
    case = register(petitioners=[representative()], headcount=6)
    assert case.main_petitioner.name == "李代表"
    assert case.collective  # six came; the representative speaks for them
    html = signed_in(jianan.member("clerk")).get(reverse("web:home")).content.decode()
    assert case.number in html
    api = signed_in(jianan.member("clerk")).get(f"/api/cases/{case.pk}/").json()
    assert "李*表" in str(api)


def test_a_companion_alone_is_still_refused_with_the_reason(jianan, register):
    with pytest.raises(Refused) as refused:
        register(petitioners=[representative(role=c.PetitionerRole.COMPANION)])
    assert refused.value.errors["petitioners"] == "至少登记一名信访人或代表"


def test_the_form_registers_a_representative_alone(jianan):
    client = signed_in(jianan.member("clerk"))
    data = registration_data(jianan)
    for key in [k for k in data if k.startswith("p-1-")]:
        del data[key]
    data["p-TOTAL_FORMS"] = "1"
    data["p-0-role"] = c.PetitionerRole.REPRESENTATIVE
    response = client.post(reverse("web:register"), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_form_without_people_says_so_in_the_offices_words(jianan):
    client = signed_in(jianan.member("clerk"))
    data = registration_data(jianan)
    for key in [k for k in data if k.startswith(("p-0-", "p-1-"))]:
        del data[key]
    data["p-TOTAL_FORMS"] = "0"
    html = client.post(reverse("web:register"), data).content.decode()
    assert "至少登记一名信访人或代表" in html and "表单" not in html


def test_the_next_form_starts_from_the_clerks_last_channel_and_category(jianan):
    client = signed_in(jianan.member("clerk"))
    data = registration_data(jianan)
    data["channel"] = "letter"
    data["d-0-category"] = "资金项目"
    assert client.post(reverse("web:register"), data).status_code == 302
    html = client.get(reverse("web:register")).content.decode()
    assert re.search(r'<option value="letter" selected>', html)
    assert re.search(r'<option value="资金项目" selected>', html)


def test_the_ledgers_and_the_bulletin_name_a_lone_representative(jianan, register):
    # Every list that names "the petitioner" names the representative who petitioned alone:
    # the L0 ledger, the L4 table's source rows and the monthly bulletin (masked in each).
    from tests.api.world import read_sheet
    from xinfang.cases.models import Case
    from xinfang.ledgers.exports import ledger_l0
    from xinfang.reports.outputs import _masked_names

    case = register(petitioners=[representative()], headcount=6)
    rows = read_sheet(ledger_l0(Case.objects.all(), by=jianan.member("clerk")))
    assert any("李*表" in str(cell) for cell in rows[1]), rows[1]
    assert _masked_names([case.pk]) == {case.pk: "李*表"}
