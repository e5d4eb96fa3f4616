"""A unit switched off (乡镇撤并, a bureau merged) named by id in an API call: a registration's
township or village, an assignment's lead or assisting unit. Each is refused on its field with
the unit named as switched off — not filed under a place the forms no longer offer, and not
"does not exist", which sends the caller looking for a typo. Nothing is written."""

import pytest

from tests.api.test_registration_answer import body
from tests.api.world import client_as, walk
from xinfang.cases.models import Case
from xinfang.web.admin_services import unit_set_active

pytestmark = pytest.mark.django_db


def switched_off(j, *units):
    for unit in units:
        unit_set_active(by=j.member("sysadmin"), unit=unit, active=False)


def test_a_registration_in_a_switched_off_village_or_township_is_refused(jianan):
    # given: 椹涧乡 merged away, its villages with it; 霍庄村 of 将官池镇 too
    j = jianan
    switched_off(j, j.villages["椹涧村"], j.villages["小河村"], j.townships["椹涧乡"],
                 j.villages["霍庄村"])
    clerk = client_as(j.member("clerk"))
    # when / then
    answer = clerk.post("/api/cases/", body(j, village=j.villages["霍庄村"].pk), format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"] == {"village": "“霍庄村”已停用，请选择现行的村（社区）"}
    answer = clerk.post("/api/cases/", body(j, township=j.townships["椹涧乡"].pk, village=None),
                        format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"] == {"township": "“椹涧乡”已停用，请选择现行的乡镇（街道）"}
    assert not Case.objects.exists()
    # the township's live villages still register
    answer = clerk.post("/api/cases/", body(j), format="json")
    assert answer.status_code == 201, answer.content


@pytest.mark.parametrize("field", ["lead", "assisting"])
def test_an_assignment_to_a_switched_off_unit_is_refused_naming_it(jianan, field):
    j = jianan
    case = walk(j, "signed_off")
    switched_off(j, j.bureaus["区教育局"])
    off = j.bureaus["区教育局"].pk
    params = {"lead": off} if field == "lead" else {
        "lead": j.townships["将官池镇"].pk, "assisting": [off]}
    answer = client_as(j.member("clerk")).post(
        f"/api/cases/{case.pk}/transitions/assign/",
        {"expected_version": case.version, "receiver_name": "陈晓东", **params}, format="json")
    assert answer.status_code == 400, answer.content
    assert "“区教育局”已停用，不能选择。" in str(answer.json()["errors"][field])
    case.refresh_from_db()
    assert case.state == "signed_off" and not case.assignments.exists()
