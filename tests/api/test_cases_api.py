"""The case API: list and filters, detail (masked), registration, transitions with their status
codes, available actions, the acting membership, and the OpenAPI schema."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.world import client_as, walk
from tests.conftest import id_number, register_in, sh
from xinfang.cases import choices as c
from xinfang.cases.models import Case, CaseEvent, Clock
from xinfang.cases.services import available
from xinfang.cases.services.due import cases_refresh_due
from xinfang.cases.workflow import TRANSITIONS
from xinfang.org.models import Membership

pytestmark = pytest.mark.django_db


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["results"]}


# -- list ------------------------------------------------------------------------------------------


def test_the_list_shows_the_cases_through_the_door_newest_first_with_masked_names(jianan):
    first = register_in(jianan, at=sh(2026, 9, 14, 10))
    second = register_in(jianan, at=sh(2026, 9, 15, 10), matter="反映低保未发放")
    body = client_as(jianan.member("clerk")).get("/api/cases/").json()
    assert body["count"] == 2
    assert [r["number"] for r in body["results"]] == [second.number, first.number]
    row = body["results"][1]
    assert row["petitioner"] == "张*明" and row["state"] == "registered"
    assert row["state_label"] == "已登记" and row["township"]["name"] == "将官池镇"


def test_the_list_reads_only_the_petitioners_names_of_its_encrypted_columns(jianan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    register_in(jianan)
    with CaptureQueriesContext(connection) as ctx:
        body = client_as(jianan.member("clerk")).get("/api/cases/").json()
    assert body["results"][0]["petitioner"] == "张*明"
    people = [q["sql"] for q in ctx.captured_queries if '"cases_petitioner"' in q["sql"]]
    assert people and all('"id_number"' not in q and '"phone"' not in q and '"address"' not in q
                          for q in people), people


FILTERS = [
    ("state=registered", {"fresh", "phoned"}),
    ("state=in_progress&state=closed", {"handled"}),
    ("state=closed", set()),
    ("kind=petition", {"fresh", "handled", "phoned"}),
    ("kind=review", set()),
    ("channel=phone", {"phoned"}),
    ("township={wunv}", {"phoned"}),
    ("township={wunv}&township={jiang}", {"fresh", "handled", "phoned"}),
    ("township={wunv}&township={wunv}", {"phoned"}),
    # written into the statement as a number (lead49): beyond the column's smallint, no rows
    ("township=9223372036854775807", set()),
    ("township={wunv}&township=40000", {"phoned"}),
    ("search=低保", {"phoned"}),
    ("search=危房改造补助", {"fresh", "handled"}),  # in the matter and in the demand
    ("search=2025年", {"fresh", "handled"}),          # only in the demand text
    ("search=0002", {"handled"}),                     # the case number
    ("overdue=true", {"handled"}),
    ("overdue=false", {"fresh", "phoned"}),
    ("state=registered&search=低保", {"phoned"}),
    ("", {"fresh", "handled", "phoned"}),
]


@pytest.mark.parametrize(("query", "expected"),
                         [pytest.param(q, e, id=q or "no-filter") for q, e in FILTERS])
def test_filters_and_search_narrow_the_list(jianan, query, expected):
    cases = {
        "fresh": register_in(jianan),
        "handled": walk(jianan, "in_progress"),
        "phoned": register_in(jianan, channel=c.Channel.PHONE, matter="反映低保未发放",
                              township=jianan.townships["五女店镇"],
                              village=jianan.villages["魏庄村"],
                              demands=[c_demand("要求补发低保", "民政救助")]),
    }
    late = cases["handled"].clocks.filter(status="running", kind="deadline").first()
    Clock.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    Clock.objects.filter(case__in=[cases["fresh"], cases["phoned"]]).update(
        due_at=timezone.now() + timedelta(days=3))
    cases_refresh_due()  # the clocks were moved by hand, not by the engine: refresh as a bulk load
    query = query.format(wunv=jianan.townships["五女店镇"].pk,
                         jiang=jianan.townships["将官池镇"].pk)
    got = numbers(client_as(jianan.member("clerk")).get(f"/api/cases/?{query}"))
    assert got == {cases[k].number for k in expected}


def c_demand(text, category):
    from xinfang.cases.services import DemandInput

    return DemandInput(text=text, category=category)


def test_the_list_pages_and_keeps_a_query_budget(jianan, django_assert_max_num_queries):
    for i in range(7):
        register_in(jianan, matter=f"第{i}件")
    client = client_as(jianan.member("clerk"))
    with django_assert_max_num_queries(12):
        body = client.get("/api/cases/?page_size=3&page=2").json()
    assert body["count"] == 7 and len(body["results"]) == 3 and body["next"] and body["previous"]
    assert client.get("/api/cases/?page=99").status_code == 404


# -- detail ----------------------------------------------------------------------------------------


def test_the_detail_masks_every_petitioner_and_carries_demands_clocks_assignments_history(jianan):
    case = walk(jianan, "in_progress")
    body = client_as(jianan.member("clerk")).get(f"/api/cases/{case.pk}/").json()
    assert body["petitioners"] == [{
        "name": "张*明", "role": "main", "gender": "", "id_number": "4110**********1237",
        "phone": "138****5678", "address": "将官池镇****", "exited_household": True,
        "monitored_household": False, "confidential": False,
    }]
    assert body["demands"][0]["text"] == "要求落实2025年危房改造补助"
    clock = next(k for k in body["clocks"] if k["name"] == "handling")
    assert {"due_at", "provisional", "explanation", "status", "overdue"} <= set(clock)
    assert clock["explanation"] and clock["explanation"][0].startswith("起算")
    assert [(a["unit"]["name"], a["role"]) for a in body["assignments"]] == [
        ("将官池镇", "lead"), ("区民政局", "assist")]
    assert [e["type"] for e in body["history"]] == ["register", "propose", "sign_off", "assign",
                                                    "sign_for"]
    assert body["version"] == case.version
    text = str(body)
    assert "张三明" not in text and "13812345678" not in text and "岗朱村3组" not in text


def test_a_leader_instruction_is_shown_to_the_office_but_not_to_a_handling_unit(jianan):
    case = walk(jianan, "assigned", source_level=c.SourceLevel.CITY, source_office="许昌市信访局",
                leader_instruction="请依法依规办理", leader_instruction_level="city")
    office = client_as(jianan.member("approver")).get(f"/api/cases/{case.pk}/").json()
    unit = client_as(jianan.member("township")).get(f"/api/cases/{case.pk}/").json()
    assert office["leader_instruction"] == "请依法依规办理"
    assert unit["leader_instruction"] == "（领导批示内容不公开）"


def test_a_case_outside_the_scope_is_a_404_like_one_that_does_not_exist(jianan, jurisdiction):
    other = register_in(jurisdiction("datonghu"))
    client = client_as(jianan.member("clerk"))
    missing = client.get("/api/cases/999999/")
    outside = client.get(f"/api/cases/{other.pk}/")
    assert missing.status_code == outside.status_code == 404
    assert missing.json() == outside.json()


# -- registration ----------------------------------------------------------------------------------

REGISTRATION = {
    "channel": "visit", "matter": "反映危房改造补助未到位",
    "received_at": "2026-09-14T09:30:00+08:00",
    "petitioners": [{"name": "张三明", "id_number": id_number("41102319800101123"),
                     "phone": "13812345678", "address": "将官池镇岗朱村3组",
                     "exited_household": True}],
    "demands": [{"text": "要求落实2025年危房改造补助", "category": "危房改造"}],
}


def test_a_clerk_registers_a_case_over_the_api(jianan):
    body = dict(REGISTRATION, township=jianan.townships["将官池镇"].pk,
                village=jianan.villages["岗朱村"].pk, headcount=2,
                respondents=[{"name": "岗朱村村委会", "unit": jianan.villages["岗朱村"].pk}])
    response = client_as(jianan.member("clerk")).post("/api/cases/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"] == "建安信〔2026〕0001号" and data["state"] == "registered"
    assert data["petitioners"][0]["name"] == "张*明"
    case = Case.objects.get(pk=data["id"])
    assert case.main_petitioner.phone == "13812345678" and case.headcount == 2
    assert case.respondents.get().unit == jianan.villages["岗朱村"]
    assert case.events.get().type == "register"


@pytest.mark.parametrize(("change", "field"), [
    ({"channel": "pigeon"}, "channel"),
    ({"matter": "  "}, "matter"),
    ({"received_at": "2099-01-01T00:00:00+08:00"}, "received_at"),
    ({"received_at": "昨天"}, "received_at"),
    ({"petitioners": []}, "petitioners"),
    ({"petitioners": [{"name": "张三明", "id_number": "410102199001011235"}]},
     "petitioners[0].id_number"),
    ({"petitioners": [{"name": ""}]}, "petitioners[0].name"),
    ({"demands": [{"text": "x", "category": "天气"}]}, "demands[0].category"),
    ({"demands": "x"}, "demands"),
    ({"headcount": 0}, "headcount"),
    ({"township": 999999}, "township"),
], ids=["channel", "matter", "future", "not-a-time", "no-petitioner", "id-check-digit",
        "no-name", "category", "demands-not-a-list", "headcount", "no-such-township"])
def test_registration_errors_are_400_with_a_message_per_field(jianan, change, field):
    response = client_as(jianan.member("clerk")).post("/api/cases/", {**REGISTRATION, **change},
                                                      format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors and errors[field]
    assert not Case.objects.exists()


def test_a_person_posted_as_pasted_is_the_person_on_file(jianan):
    # given 张三明 on file with her number and phone
    first = register_in(jianan)
    number = first.main_petitioner.id_number
    # when a system posts her pasted from a Word table: a BOM, dashes, an en dash, a letter O
    grouped = f"{number[:6]}-{number[6:14]}-{number[14:]}"
    pasted = {"name": "\ufeff张三明\u200b", "id_number": grouped, "phone": "138–1234–5678"}
    client = client_as(jianan.member("clerk"))
    response = client.post("/api/cases/", {**REGISTRATION, "petitioners": [pasted]}, format="json")
    # then the case is hers, and her name is masked whole
    assert response.status_code == 201, response.content
    assert response.json()["petitioners"][0]["name"] == "张*明"
    assert Case.objects.get(pk=response.json()["id"]).main_petitioner == first.main_petitioner
    typo = {**pasted, "id_number": number[:4] + "O" + number[5:]}
    response = client.post("/api/cases/", {**REGISTRATION, "petitioners": [typo]}, format="json")
    assert response.status_code == 400
    assert "第5位“O”是字母" in response.json()["errors"]["petitioners[0].id_number"]


def test_registration_by_someone_who_is_not_the_offices_clerk_is_403(jianan):
    for key in ("approver", "inspector", "township", "discipline"):
        response = client_as(jianan.member(key)).post("/api/cases/", REGISTRATION, format="json")
        assert response.status_code == 403, key
        assert response.json()["detail"]
    assert not Case.objects.exists()


# -- transitions -----------------------------------------------------------------------------------


def post(client, case, name, **body):
    return client.post(f"/api/cases/{case.pk}/transitions/{name}/", body, format="json")


def test_a_transition_takes_units_by_id_and_answers_with_the_new_case(jianan):
    case = walk(jianan, "signed_off")
    response = post(client_as(jianan.member("clerk")), case, "assign",
                    expected_version=case.version, lead=jianan.townships["将官池镇"].pk,
                    assisting=[jianan.bureaus["区民政局"].pk], receiver_name="陈晓东")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "assigned" and body["version"] == case.version + 1
    assert [a["unit"]["name"] for a in body["assignments"]] == ["将官池镇", "区民政局"]
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert (event.type, event.actor) == ("assign", jianan.member("clerk").user)


def test_datetimes_travel_as_iso_and_findings_by_demand_number(jianan):
    case = walk(jianan, "in_progress")
    township = client_as(jianan.member("township"))
    response = post(township, case, "record_finding", expected_version=case.version,
                    findings={"1": {"finding": "true", "resolution_class": "solved",
                                    "note": "属实，已补发"}})
    assert response.status_code == 200, response.content
    assert response.json()["demands"][0]["finding"] == "true"
    case.refresh_from_db()
    for name, body in [("draft_letter", {"body": "经核查属实。"}), ("approve_letter", {}),
                       ("issue_letter", {})]:
        who = {"approve_letter": "approver", "issue_letter": "clerk"}.get(name, "township")
        response = post(client_as(jianan.member(who)), case, name,
                        expected_version=case.version, **body)
        assert response.status_code == 200, (name, response.content)
        case.refresh_from_db()
    delivered_at = (timezone.localtime() - timedelta(hours=2)).replace(tzinfo=None)
    response = post(client_as(jianan.member("clerk")), case, "record_delivery",
                    expected_version=case.version, mode="in_person",
                    delivered_at=delivered_at.isoformat(), deliverer="陈晓东",
                    recipient="张三明", receipt_signed=True)
    assert response.status_code == 200, response.content
    delivery = case.deliveries.get()
    assert timezone.localtime(delivery.delivered_at).replace(tzinfo=None) == delivered_at


def test_a_stale_version_is_409_and_changes_nothing(jianan):
    case = walk(jianan, "registered")
    clerk = client_as(jianan.member("clerk"))
    response = post(clerk, case, "propose", expected_version=case.version + 5, proposal="交镇")
    assert response.status_code == 409
    assert response.json()["version"] == case.version and "刷新" in response.json()["detail"]
    assert Case.objects.get(pk=case.pk).state == "registered"


def test_a_rule_refusal_is_422_with_the_chinese_reason(jianan):
    case = walk(jianan, "registered")
    response = post(client_as(jianan.member("clerk")), case, "archive",
                    expected_version=case.version)
    assert response.status_code == 422
    assert response.json()["detail"] == "本件当前状态为“已登记”，不能“归档”。"


def test_a_respondent_unit_cannot_be_assigned_and_the_refusal_names_the_field(jianan):
    from xinfang.cases.services import RespondentInput

    case = walk(jianan, "signed_off", respondents=[RespondentInput(
        name="将官池镇政府", unit=jianan.townships["将官池镇"])])
    response = post(client_as(jianan.member("clerk")), case, "assign",
                    expected_version=case.version, lead=jianan.townships["将官池镇"].pk,
                    receiver_name="陈晓东")
    assert response.status_code == 422
    assert response.json()["field"] == "lead" and "被反映对象" in response.json()["detail"]
    assert not case.assignments.exists()


def test_a_role_that_may_not_take_the_transition_is_403_before_its_input_is_read(jianan):
    case = walk(jianan, "proposed")
    response = post(client_as(jianan.member("clerk")), case, "sign_off")  # no version, no note
    assert response.status_code == 403
    assert "须由分管领导、主要领导办理" in response.json()["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "expected_version"),
    ({"expected_version": "one"}, "expected_version"),
    ({"expected_version": 1}, "proposal"),
    ({"expected_version": 1, "proposal": "x", "state": "closed"}, "state"),
], ids=["no-version", "version-not-a-number", "missing-argument", "unknown-argument"])
def test_bad_transition_input_is_400(jianan, body, field):
    case = walk(jianan, "registered")
    response = client_as(jianan.member("clerk")).post(
        f"/api/cases/{case.pk}/transitions/propose/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Case.objects.get(pk=case.pk).state == "registered"


def test_a_service_validation_error_is_400_with_its_field(jianan):
    case = walk(jianan, "registered")
    response = post(client_as(jianan.member("clerk")), case, "propose",
                    expected_version=case.version, proposal="")
    assert response.status_code == 400
    # The request schema is as strict as the service: a required text is refused blank there.
    body = response.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"proposal"}
    assert body["detail"].startswith("proposal：")


def test_an_unknown_transition_is_404(jianan):
    case = walk(jianan, "registered")
    client = client_as(jianan.member("clerk"))
    assert post(client, case, "delete", expected_version=1).status_code == 404
    assert post(client, case, "__class__", expected_version=1).status_code == 404


def test_open_review_registers_in_the_acting_clerks_name_only(jianan):
    case = walk(jianan, "closed")
    city = jianan.member("city_clerk")
    response = post(client_as(city), case, "open_review", expected_version=case.version,
                    received_at="2026-11-20T09:00:00+08:00", reason="对处理意见不服",
                    clerk=jianan.member("clerk").pk)
    assert response.status_code == 400 and "clerk" in response.json()["errors"]
    response = post(client_as(city), case, "open_review", expected_version=case.version,
                    received_at="2026-11-20T09:00:00+08:00", reason="对处理意见不服")
    assert response.status_code == 200, response.content
    review = Case.objects.get(review_of=case)
    assert review.jurisdiction == jianan.city and review.registered_by == city.user


def test_a_leader_must_hold_a_role_in_the_jurisdiction(jianan, jurisdiction):
    case = walk(jianan, "registered")
    outsider = jurisdiction("datonghu").member("approver").user
    approver = client_as(jianan.member("approver"))
    response = post(approver, case, "set_leader_owner", expected_version=case.version,
                    leader=outsider.pk)
    assert response.status_code == 400 and "leader" in response.json()["errors"]
    response = post(approver, case, "set_leader_owner", expected_version=case.version,
                    leader=jianan.member("approver").user.pk)
    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).leader_owner == jianan.member("approver").user


def test_merge_only_into_a_case_the_member_can_see(jianan, jurisdiction):
    first, duplicate = register_in(jianan), register_in(jianan, matter="重复登记")
    foreign = register_in(jurisdiction("datonghu"))
    clerk = client_as(jianan.member("clerk"))
    response = post(clerk, duplicate, "merge", expected_version=duplicate.version,
                    into=foreign.pk)
    assert response.status_code == 400 and "into" in response.json()["errors"]
    response = post(clerk, duplicate, "merge", expected_version=duplicate.version, into=first.pk)
    assert response.status_code == 200 and response.json()["state"] == "merged"


def test_actions_lists_what_this_membership_may_do_now(jianan):
    case = walk(jianan, "proposed")
    as_approver = client_as(jianan.member("approver")).get(f"/api/cases/{case.pk}/actions/")
    assert as_approver.status_code == 200
    names = [a["name"] for a in as_approver.json()]
    assert names == available(case=case, by=jianan.member("approver"))  # in table order
    assert {"sign_off", "return_proposal"} <= set(names) and "propose" not in names
    assert as_approver.json()[0] == {"name": "sign_off", "label": "审签", "step": "转"}
    as_inspector = client_as(jianan.member("inspector")).get(f"/api/cases/{case.pk}/actions/")
    assert as_inspector.json() == []


# -- the acting membership -------------------------------------------------------------------------


def test_the_x_membership_header_chooses_the_role_and_must_be_ones_own(jianan):
    case = register_in(jianan)
    clerk = jianan.member("clerk")
    second = Membership.objects.create(user=clerk.user, unit=jianan.townships["五女店镇"],
                                       role="unit_handler")
    client = client_as(clerk)
    assert client.get(f"/api/cases/{case.pk}/").status_code == 200
    client.credentials(HTTP_X_MEMBERSHIP=str(second.pk))
    assert client.get(f"/api/cases/{case.pk}/").status_code == 404  # the township sees nothing
    for bad in (str(jianan.member("approver").pk), "abc", "-1", "9" * 40, "١"):
        client.credentials(HTTP_X_MEMBERSHIP=bad)
        response = client.get("/api/cases/")
        assert response.status_code == 403, bad
    client.credentials()  # no header: the first active membership, the clerk's
    assert client.get(f"/api/cases/{case.pk}/").status_code == 200
    Membership.objects.filter(pk=clerk.pk).update(is_active=False)
    assert client.get(f"/api/cases/{case.pk}/").status_code == 404  # now acting as the township


def test_an_anonymous_request_is_refused(jianan):
    from rest_framework.test import APIClient

    case = register_in(jianan)
    client = APIClient()
    for url in ("/api/cases/", f"/api/cases/{case.pk}/", "/api/ledgers/l0.xlsx", "/api/schema/"):
        assert client.get(url).status_code == 403, url


# -- schema ----------------------------------------------------------------------------------------


def test_the_openapi_schema_is_served_valid_and_without_generator_warnings(jianan):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache),
                                 dict(GENERATOR_STATS._error_cache))
    validate_schema(schema)
    # One operation per transition, each with its own request body (issue 16).
    transitions = {f"/api/cases/{{id}}/transitions/{name}/" for name in TRANSITIONS}
    assert {"/api/cases/", "/api/cases/{id}/", "/api/cases/{id}/actions/",
            "/api/ledgers/l0.xlsx", *transitions} <= set(schema["paths"])
    transition = schema["paths"]["/api/cases/{id}/transitions/propose/"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "422", "429"} <= set(
        transition["responses"])
    response = client_as(jianan.member("clerk")).get("/api/schema/?format=json")
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")


def test_no_redoc_page_and_the_swagger_page_loads_nothing_from_a_cdn(jianan):
    # /api/docs/ is served from our own static files (tests/api/test_error_format.py).
    client = client_as(jianan.member("clerk"))
    assert client.get("/api/redoc/").status_code == 404
    html = client.get("/api/docs/").content.decode()
    assert "cdn" not in html.lower() and "https://" not in html


def test_a_searchs_count_is_planned_for_its_term_and_its_rows_are_prepared(jianan):
    # As the ledger's (lead20): the count of a searched list is never a prepared generic plan.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    case = register_in(jianan, matter="反映住院费用报销未到位")
    client = client_as(jianan.member("clerk"))
    for _ in range(7):
        body = client.get("/api/cases/?search=住院费用").json()
        assert [row["id"] for row in body["results"]] == [case.pk]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%LIKE UPPER%"])
        searched = [row[0] for row in cursor]
    assert any(not s.startswith("SELECT COUNT(*)") for s in searched)  # the page's rows
    assert not any(s.startswith("SELECT COUNT(*)") for s in searched)
