"""A petition against the registering office itself (issue 8).

Before: registering with the office as respondent created the case, answered 404 (the creator
could no longer see it, so a client retried and duplicated it), and left a case nobody could
propose, decline or move while its clocks ran. Now the profile's ``against_office`` rule sends it,
at registration, to the level above or to the discipline commission; the creator is told where;
whoever receives it sees it and can act; the history records the routing. A respondent named as a
person keeps that person's own unit away from the case as well.
"""

import pytest
from django.urls import reverse

from tests.api.test_cases_api import REGISTRATION
from tests.api.world import client_as
from tests.conftest import register_in
from tests.web.conftest import signed_in
from tests.web.test_flows import registration_data
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import (
    DemandInput,
    RespondentInput,
    available,
    perform,
    propose_units,
)
from xinfang.org.choices import Level, Role, UnitKind
from xinfang.org.models import Membership, Unit, User
from xinfang.rules.profile import AgainstOfficeRule, ProfileError, load_profile_text
from xinfang.rules.store import current_version, profile_of

pytestmark = pytest.mark.django_db

API_REGISTRATION = {k: v for k, v in REGISTRATION.items()}

# What each seed says (the YAML quotes it): silent seeds inherit national's "one level up".
EXPECTED_ROUTE = {
    "national": "upper_office",
    "datonghu": "discipline",  # 000 §四(二)2, §九(二)
    "jianan": "upper_office",
    "kaijiang": "upper_office",
    "henan": "discipline",  # 003 §二(三): the county is the terminal stop
    "lihai": "discipline",  # 004 §一(一)3
}


ANY_PROFILE_DEMAND = [DemandInput(text="反映扶贫办工作人员推诿", category="其他")]


def against(unit) -> list[RespondentInput]:
    return [RespondentInput(name=unit.name, unit=unit)]


def city_member(j, role: str, username: str) -> Membership:
    user = User.objects.create(username=username, full_name=username)
    return Membership.objects.create(user=user, unit=j.city_office, role=role)


# -- the API: 201 with where it went, never a 404 ------------------------------------------------


def test_registering_against_the_office_over_the_api_answers_201_with_where_it_went(jianan):
    # given
    clerk = jianan.member("clerk")
    body = dict(API_REGISTRATION, respondents=[{"name": "建安区乡村振兴局",
                                                "unit": jianan.office.pk}])
    # when
    response = client_as(clerk).post("/api/cases/", body, format="json")
    # then
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["routed"] is True and data["route"] == "upper_office"
    assert data["routed_to"]["name"] == "许昌市信访局"
    assert data["jurisdiction"]["name"] == "许昌市"
    assert data["number"].startswith("许〔2026〕") and "许昌市信访局" in data["detail"]
    case = Case.objects.get()
    assert case.pk == data["id"] and case.jurisdiction == jianan.city
    assert case.profile.code == "national" and case.registered_by == clerk.user
    # the creator cannot read it (the office is accused) and has no reason to retry
    assert client_as(clerk).get(f"/api/cases/{case.pk}/").status_code == 404
    # the office above reads it, with the routing in its history
    detail = client_as(jianan.member("city_clerk")).get(f"/api/cases/{case.pk}/")
    assert detail.status_code == 200
    history = detail.json()["history"]
    assert [e["type"] for e in history] == ["register", "route_against_office"]
    routed = history[1]
    assert routed["payload"]["routed_to"] == "许昌市信访局"
    assert routed["payload"]["from"] == "建安区乡村振兴局"
    assert routed["payload"]["seed"] == "national §20"
    assert routed["actor_unit"]["name"] == "建安区乡村振兴局"


def test_a_case_against_the_office_is_never_left_to_the_office(jianan):
    # given: registered against the clerk's own office
    case = register_in(jianan, respondents=against(jianan.office))
    # then: nobody of the accused office sees it; it is not theirs to move
    for key in ("clerk", "approver", "inspector"):
        assert not cases_for(jianan.member(key)).filter(pk=case.pk).exists(), key
    assert case.jurisdiction == jianan.city and case.state == c.State.REGISTERED


def test_the_office_above_proposes_signs_off_and_assigns_it_but_never_to_the_accused(jianan):
    # given
    case = register_in(jianan, respondents=against(jianan.office))
    city_clerk = jianan.member("city_clerk")
    city_approver = city_member(jianan, Role.APPROVER, "city_approver")
    assert "propose" in available(case=case, by=city_clerk)
    assert "decline" in available(case=case, by=city_clerk)
    # the routing clock runs for the office that received it
    assert case.clocks.filter(name="routing", status="running").exists()
    # when
    case = perform("propose", case=case, by=city_clerk, proposal="交区民政局核查")
    case = perform("sign_off", case=case, by=city_approver)
    # then: the accused office is refused, and not proposed
    with pytest.raises(Refused) as refused:
        perform("assign", case=case, by=city_clerk, lead=jianan.office, receiver_name="某")
    assert refused.value.field == "lead"
    proposed = {u for p in propose_units(case=case, profile=profile_of(case.profile))
                for u in p["lead"] + p["assist"]}
    assert jianan.office not in proposed
    case = perform("assign", case=case, by=city_clerk, lead=jianan.bureaus["区民政局"],
                   receiver_name="周明")
    assert case.state == c.State.ASSIGNED
    assert cases_for(jianan.member("bureau")).filter(pk=case.pk).exists()


@pytest.mark.parametrize("code", sorted(EXPECTED_ROUTE))
def test_each_profile_sends_a_petition_against_its_office_where_its_seed_says(
        jurisdiction, code):
    # given
    j = jurisdiction(code)
    # when
    case = register_in(j, respondents=against(j.office), demands=ANY_PROFILE_DEMAND)
    # then
    event = case.events.get(type="route_against_office")
    assert event.payload["route"] == EXPECTED_ROUTE[code] == case.routed.route
    registering_rule = profile_of(current_version(code)).against_office
    assert event.payload["seed"] == registering_rule.seed
    if EXPECTED_ROUTE[code] == "upper_office":
        receiver = j.member("city_clerk")
        assert case.jurisdiction == j.city
        assert "propose" in available(case=case, by=receiver)
    else:
        receiver = j.member("discipline")
        assert case.jurisdiction == j.county and case.state == c.State.ASSIGNED
        assert case.transferred_to_discipline
        assert case.assignments.get().unit == j.discipline
        assert event.to_state == c.State.ASSIGNED
        assert "sign_for" in available(case=case, by=receiver)
        # the routing clock no longer waits for the accused office
        assert not case.clocks.filter(name="routing", status="running").exists()
    assert cases_for(receiver).filter(pk=case.pk).exists()
    assert not cases_for(j.member("clerk")).filter(pk=case.pk).exists()


def test_the_discipline_commission_handles_it_through_to_its_decision_letter(jurisdiction):
    j = jurisdiction("datonghu")
    case = register_in(j, respondents=against(j.office))
    commission = j.member("discipline")
    case = perform("sign_for", case=case, by=commission)
    assert case.state == c.State.IN_PROGRESS
    case = perform("record_finding", case=case, by=commission,
                   findings={1: ("false", "explained", "经核查不属实")})
    case = perform("draft_letter", case=case, by=commission, body="经核查，反映问题不属实。")
    assert case.state == c.State.LETTER_DRAFTED
    # the jurisdiction's chief (the government, not the accused poverty office) approves it
    case = perform("approve_letter", case=case, by=j.member("chief"))
    assert case.state == c.State.LETTER_APPROVED


def test_when_the_whole_jurisdiction_is_accused_its_commission_cannot_take_it_so_it_goes_up(
        jurisdiction):
    # given: datonghu sends complaints about its office to its commission — but the commission
    # sits inside the accused district government
    j = jurisdiction("datonghu")
    # when
    case = register_in(j, respondents=against(j.county))
    # then
    event = case.events.get(type="route_against_office")
    assert event.payload["route"] == "upper_office" and case.jurisdiction == j.city
    assert "纪检监察机关" in event.payload["reason"]
    assert cases_for(j.member("city_clerk")).filter(pk=case.pk).exists()
    assert not cases_for(j.member("discipline")).filter(pk=case.pk).exists()


def test_with_no_office_above_nothing_is_registered_and_the_field_is_named(jianan):
    # given: the city office registers a complaint about itself; the province runs no office
    body = dict(API_REGISTRATION, respondents=[{"name": "许昌市信访局",
                                                "unit": jianan.city_office.pk}])
    # when
    response = client_as(jianan.member("city_clerk")).post("/api/cases/", body, format="json")
    # then
    assert response.status_code == 422, response.content
    assert response.json()["field"] == "respondents"
    assert not Case.objects.exists()


def test_a_complaint_about_another_unit_stays_with_the_office(jianan):
    case = register_in(jianan, respondents=against(jianan.villages["岗朱村"]))
    assert case.routed is None and case.jurisdiction == jianan.county
    assert not case.events.filter(type="route_against_office").exists()
    assert cases_for(jianan.member("clerk")).filter(pk=case.pk).exists()


# -- a respondent named as a person -------------------------------------------------------------


def test_a_person_named_as_respondent_keeps_their_own_unit_away_from_the_case(jianan):
    # given: 陈晓东 works at 将官池镇; the petition names him, not his township
    township = jianan.townships["将官池镇"]
    person = jianan.member("township").user
    body = dict(API_REGISTRATION, respondents=[{"name": "陈晓东", "position": "镇扶贫专干",
                                                "user": person.pk}])
    # when
    response = client_as(jianan.member("clerk")).post("/api/cases/", body, format="json")
    # then: registered with the office as usual
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert not case.events.filter(type="route_against_office").exists()
    assert case.respondents.get().unit == township
    # his unit's colleagues do not see it
    for key in ("township", "township_head", "proxy"):
        assert not cases_for(jianan.member(key)).filter(pk=case.pk).exists(), key
    # the routing proposals leave the township out, and assigning it is refused
    clerk, approver = jianan.member("clerk"), jianan.member("approver")
    case = perform("propose", case=case, by=clerk, proposal="交区民政局")
    case = perform("sign_off", case=case, by=approver)
    proposed = {u for p in propose_units(case=case, profile=profile_of(case.profile))
                for u in p["lead"] + p["assist"]}
    # (危房改造: its line bureau 区住建局 is proposed — issue 15, jianan line_bureaus)
    assert township not in proposed and jianan.bureaus["区住建局"] in proposed
    with pytest.raises(Refused) as refused:
        perform("assign", case=case, by=clerk, lead=township, receiver_name="刘海")
    assert refused.value.field == "lead" and "将官池镇" in refused.value.message
    with pytest.raises(Refused):
        perform("assign", case=case, by=clerk, lead=jianan.bureaus["区民政局"],
                receiver_name="周明", assisting=[township])


def test_a_person_with_two_units_keeps_both_away(jianan):
    person = jianan.member("bureau").user  # 区民政局, and also proxy agent at 五女店镇
    other = jianan.townships["五女店镇"]
    Membership.objects.create(user=person, unit=other, role=Role.PROXY_AGENT)
    case = register_in(jianan, respondents=[RespondentInput(name="周明", user_id=person.pk)])
    assert {r.unit for r in case.respondents.all()} == {jianan.bureaus["区民政局"], other}


def test_naming_one_of_the_offices_own_staff_sends_the_case_away_from_the_office(jianan):
    # the approver works in the office: the office cannot handle a complaint about him
    approver = jianan.member("approver").user
    case = register_in(jianan, respondents=[RespondentInput(name="王建国",
                                                            user_id=approver.pk)])
    assert case.routed is not None and case.jurisdiction == jianan.city
    assert not cases_for(jianan.member("approver")).filter(pk=case.pk).exists()


# -- the web form: a clear page, not a 404 -------------------------------------------------------


def test_the_web_form_shows_where_a_petition_against_the_office_went(jianan):
    # given
    client = signed_in(jianan.member("clerk"))
    data = registration_data(jianan, **{
        "r-TOTAL_FORMS": "1", "r-0-name": "建安区乡村振兴局",
        "r-0-unit": str(jianan.office.pk)})
    # when
    response = client.post(reverse("web:register"), data)
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("web:register_routed")
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    case = Case.objects.get()
    assert case.number in text and "许昌市信访局" in text and "回避" in text
    assert "无需重复登记" in text
    # the clerk's own attempt to open it is still refused — the page said why
    assert client.get(reverse("web:case", args=[case.pk])).status_code == 404
    # the office above sees the routing in the timeline
    timeline = signed_in(jianan.member("city_clerk")).get(reverse("web:case", args=[case.pk]))
    assert "反映本机关，依规转办" in timeline.content.decode()


def test_the_routed_page_without_a_routed_registration_goes_back_to_the_form(jianan):
    client = signed_in(jianan.member("clerk"))
    response = client.get(reverse("web:register_routed"))
    assert response.status_code == 302 and response["Location"] == reverse("web:register")


# -- the rule in the profile --------------------------------------------------------------------


BASE = "code: t\nversion: 1\nname: t\nseed: 't'\ndescription: t\nextends: national\n"


def test_the_profile_schema_refuses_an_unknown_route_and_names_the_key():
    with pytest.raises(ProfileError) as error:
        load_profile_text(BASE + "against_office:\n  to: sideways\n  seed: 'x'\n")
    assert "against_office.to" in str(error.value) and "sideways" in str(error.value)
    with pytest.raises(ProfileError) as error:
        load_profile_text(BASE + "against_office:\n  to: discipline\n")
    assert "against_office" in str(error.value) and "seed" in str(error.value)


def test_a_profile_may_override_the_route_and_a_child_inherits_it():
    child = load_profile_text(BASE + "against_office:\n  to: discipline\n  seed: '9'\n")
    assert child.against_office == AgainstOfficeRule("discipline", "", "9")
    inherited = load_profile_text(BASE)
    assert inherited.against_office.to == "upper_office"
    assert inherited.against_office.seed == "national §20"


def test_a_discipline_route_without_a_commission_goes_up(jurisdiction):
    j = jurisdiction("lihai")
    Unit.objects.filter(pk=j.discipline.pk).update(is_active=False)
    case = register_in(j, respondents=against(j.office))
    assert case.routed.route == "upper_office" and case.routed.fallback
    assert Level.CITY == case.jurisdiction.level and UnitKind.GOVERNMENT == case.jurisdiction.kind


def test_the_rules_page_says_where_a_petition_against_the_office_goes(jianan):
    page = signed_in(jianan.member("clerk")).get(reverse("web:rules_profiles")).content.decode()
    assert "反映本机关的信访" in page and "登记时转上一级信访工作机构办理" in page
    assert "《信访工作条例》§20" in page  # the source in words, not the profile code
