"""The permission matrix: every role × every action × a case inside and outside its scope.

Two districts under one city: 建安区 (``jianan``, the thirteen members of ``tests/conftest``) and
大通湖区 (``datonghu``, the same thirteen roles, usernames prefixed ``datonghu_``). "Inside" is a
member of the case's own district, "outside" the member with the same role in the other district.
The city petition office (``city_clerk``) is one unit above both, so it sees both districts' cases.

Columns: the API list, the API detail, the L0 export (with who sees names unmasked), the web case
page (``web:case``), and every transition of the workflow table over the API. Each expected table
below is written out by hand from the rules (seed 000 §九 and the workflow table) — not computed
from the code under test — and compared whole, so a failure shows every differing cell:
200 done · 403 refused (seen but not theirs to do, or an administrator) · 404 not even seen ·
422 theirs in principle but refused by a rule now (reason in Chinese).

Each test builds its two districts once; each transition attempt runs in a savepoint rolled back
afterwards, so all 26 members try the same case in the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.api.world import client_as, read_sheet, walk
from tests.conftest import register_in
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.models import Case, CaseEvent, WarningNotice
from xinfang.cases.services import RespondentInput, perform
from xinfang.cases.workflow import TRANSITIONS

pytestmark = pytest.mark.django_db

ROLES = ["clerk", "approver", "chief", "inspector", "township", "township_head", "proxy",
         "bureau", "discipline", "city_clerk", "sysadmin", "secadmin", "auditor"]
ADMINS = {"sysadmin", "secadmin", "auditor"}
OFFICE_SEES = {"clerk", "approver", "chief", "inspector", "city_clerk"}
JIANGGUANCHI = {"township", "township_head", "proxy"}  # the three members in 将官池镇
UNITS_OF_PLAIN = JIANGGUANCHI | {"bureau"}  # lead 将官池镇, assisting 区民政局
REVEALS = {"clerk", "approver", "chief"}  # the district's own office, in an export


@pytest.fixture
def districts(jianan, jurisdiction):
    return {"jianan": jianan, "datonghu": jurisdiction("datonghu")}


def actors(districts, home: str):
    """("inside:clerk", membership) … for the 13 members of each district."""
    away = "datonghu" if home == "jianan" else "jianan"
    for side, code in (("inside", home), ("outside", away)):
        for role in ROLES:
            yield f"{side}:{role}", districts[code].member(role)


# -- seeing: list, detail, export, case page -------------------------------------------------------

# The cases of 建安区 and who inside 建安区 sees each. Outside, only the city office sees them.
FLAVOURS = {
    "fresh": OFFICE_SEES,                                     # registered, not yet assigned
    "plain": OFFICE_SEES | UNITS_OF_PLAIN,                    # 将官池镇 leads, 区民政局 assists
    "respondent": OFFICE_SEES | {"bureau"},                   # complains about 将官池镇
    "confidential": OFFICE_SEES | UNITS_OF_PLAIN,             # petitioner asked for secrecy
    # Transferred to 纪委: the units it was taken from no longer see it.
    "to_discipline": OFFICE_SEES | {"discipline"},
}


def build_flavours(j) -> dict[str, Case]:
    cases = {
        "fresh": register_in(j, matter="甲：尚未交办"),
        "plain": walk(j, "in_progress", matter="乙：普通件"),
        "respondent": walk(j, "in_progress", matter="丙：反映将官池镇干部", lead="区民政局",
                           assisting=(), respondents=[RespondentInput(
                               name="将官池镇人民政府", unit=j.townships["将官池镇"])]),
        "confidential": walk(j, "in_progress", matter="丁：要求保密", confidential=True),
        "to_discipline": walk(j, "in_progress", matter="戊：反映村干部截留"),
    }
    cases["to_discipline"] = perform(
        "transfer_to_discipline", case=cases["to_discipline"], by=j.member("approver"),
        unit=j.discipline, reason="涉嫌截留补助", receiver_name="吴刚")
    return cases


def expected_sight(cell: str) -> object:
    """What a member sees of 建安区's cases: "403" for an administrator, else {flavour: …}."""
    side, role = cell.split(":")
    if role in ADMINS:
        return 403
    if side == "outside":
        return dict.fromkeys(FLAVOURS, "masked") if role == "city_clerk" else {}
    shown = "unmasked" if role in REVEALS else "masked"
    return {f: shown for f, seen in FLAVOURS.items() if role in seen}


def by_number(cases: dict[str, Case]) -> dict[str, str]:
    return {case.number: flavour for flavour, case in cases.items()}


def see_list(member, cases) -> object:
    response = client_as(member).get("/api/cases/", {"page_size": 100})
    if response.status_code != 200:
        return response.status_code
    rows = response.json()["results"]
    assert all(r["petitioner"] in ("张*明", "") for r in rows)  # the list always masks
    return {by_number(cases)[r["number"]]: "masked" for r in rows}


def see_detail(member, cases) -> object:
    client, seen = client_as(member), {}
    codes = set()
    for flavour, case in cases.items():
        response = client.get(f"/api/cases/{case.pk}/")
        codes.add(response.status_code)
        if response.status_code == 200:
            assert response.json()["petitioners"][0]["name"] == "张*明"
            assert "张三明" not in response.content.decode()
            seen[flavour] = "masked"
    return 403 if codes == {403} else seen


def see_export(member, cases) -> object:
    # An unmasked export, with its reason: what the rule lets each membership reveal in bulk.
    response = client_as(member).get("/api/ledgers/l0.xlsx",
                                     {"unmasked": "true", "reason": "核对信访人身份"})
    if response.status_code != 200:
        return response.status_code
    rows = read_sheet(response.getvalue())[1:]
    return {by_number(cases)[row[0]]: "unmasked" if row[1] == "张三明" else "masked"
            for row in rows}


def case_page_url(case: Case) -> str | None:
    for name in ("web:case-detail", "web:case_detail", "web:case"):
        try:
            return reverse(name, args=[case.pk])
        except NoReverseMatch:
            continue
    return None


def see_case_page(member, cases) -> object:
    client = client_as(member)
    client.force_login(member.user)
    codes, seen = set(), {}
    for flavour, case in cases.items():
        response = client.get(case_page_url(case), HTTP_X_MEMBERSHIP=str(member.pk))
        codes.add(response.status_code)
        if response.status_code == 200:
            assert "张三明" not in response.content.decode()
            seen[flavour] = "masked"
    return 403 if codes == {403} else seen


COLUMNS = {"view-list": see_list, "view-detail": see_detail, "export": see_export,
           "ui-case-page": see_case_page}


@pytest.mark.parametrize("column", list(COLUMNS))
def test_who_sees_which_case(districts, column):
    cases = build_flavours(districts["jianan"])
    if column == "ui-case-page" and case_page_url(cases["plain"]) is None:
        pytest.skip("xinfang/web/urls.py has no case page yet")
    got, expected = {}, {}
    for cell, member in actors(districts, "jianan"):
        got[cell] = COLUMNS[column](member, cases)
        expected[cell] = expected_sight(cell)
        if column != "export" and isinstance(expected[cell], dict):
            expected[cell] = dict.fromkeys(expected[cell], "masked")
    assert got == expected


def test_the_respondent_township_never_sees_its_case_and_cannot_be_given_it(districts):
    j = districts["jianan"]
    case = walk(j, "signed_off", respondents=[RespondentInput(
        name="将官池镇人民政府", unit=j.townships["将官池镇"])])
    for unit in (j.townships["将官池镇"], j.villages["岗朱村"]):  # the township or a unit under it
        response = client_as(j.member("clerk")).post(
            f"/api/cases/{case.pk}/transitions/assign/",
            {"expected_version": case.version, "lead": unit.pk, "receiver_name": "陈晓东"},
            format="json")
        assert response.status_code == 422, unit
        assert response.json()["field"] == "lead"
    case = walk(j, "in_progress", case=case, lead="区民政局", assisting=())
    for role in JIANGGUANCHI:
        client = client_as(j.member(role))
        assert client.get(f"/api/cases/{case.pk}/").status_code == 404
        assert client.get("/api/cases/").json()["count"] == 0
        assert len(read_sheet(client.get("/api/ledgers/l0.xlsx").getvalue())) == 1
        assert client.get(f"/api/cases/{case.pk}/actions/").status_code == 404


def test_a_confidential_petitioner_is_never_revealed_to_a_handling_unit(districts):
    j = districts["jianan"]
    case = walk(j, "in_progress", confidential=True)
    try:
        url = reverse("web:case_reveal", args=[case.pk])
    except NoReverseMatch:
        pytest.skip("xinfang/web/urls.py has no reveal page")
    form = {"petitioner": case.main_petitioner.pk, "reason": "核实身份"}
    for role in sorted(UNITS_OF_PLAIN):
        client = Client()
        client.force_login(j.member(role).user)
        response = client.post(url, form)
        assert response.status_code == 403, role
        assert "张三明" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="reveal").exists()
    client = Client()
    client.force_login(j.member("clerk").user)
    response = client.post(url, form)
    assert response.status_code == 200 and "张三明" in response.content.decode()
    assert AuditEntry.objects.filter(action="reveal").count() == 1


# -- acting: every transition ----------------------------------------------------------------------

HANDLERS_OF_PLAIN = UNITS_OF_PLAIN
EITHER = {"clerk", "approver", "chief"} | HANDLERS_OF_PLAIN


@dataclass
class Row:
    at: str  # the milestone (tests/api/world.PATH) the case is walked to
    body: object = lambda j, case: {}  # noqa: E731 — the transition's arguments
    ok: set[str] = field(default_factory=set)  # inside members answered 200
    rule: set[str] = field(default_factory=set)  # inside members answered 422
    outside_ok: set[str] = field(default_factory=set)
    home: str = "jianan"
    registration: dict = field(default_factory=dict)
    prepare: object = None  # (district, case) -> case, after the walk


def _ago(hours=1):
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def _awaiting_countersign(j, case):
    return perform("sign_off", case=case, by=j.member("approver"))


def _with_warning_notice(j, case):
    # Which profile issues written notices is the profiles' business; the matrix needs one.
    WarningNotice.objects.create(case=case, jurisdiction_id=case.jurisdiction_id,
                                 rule="matrix_notice", reasons=["越级访"],
                                 to_roles=["line_head"], issued_at=timezone.now())
    return case


CITY_REFERRAL = {"source_level": c.SourceLevel.CITY, "source_office": "许昌市乡村振兴局"}
PROVINCE_REFERRAL = {"source_level": c.SourceLevel.PROVINCE, "source_office": "湖南省乡村振兴局"}

ROWS = {
    "decline": Row("registered", lambda j, k: {"reason": "不属于受理范围", "guidance": "已引导"},
                   ok={"clerk"}),
    "merge": Row("registered", lambda j, k: {"into": register_in(j, matter="原件").pk},
                 ok={"clerk"}),
    "propose": Row("registered", lambda j, k: {"proposal": "交将官池镇"}, ok={"clerk"}),
    "sign_off": Row("proposed", ok={"approver"}, rule={"chief"}),  # the approver signs first
    "countersign": Row("proposed", ok={"chief"}, home="datonghu",
                       registration=PROVINCE_REFERRAL, prepare=_awaiting_countersign),
    "return_proposal": Row("proposed", lambda j, k: {"reason": "请补充"},
                           ok={"approver", "chief"}),
    "assign": Row("signed_off", lambda j, k: {"lead": j.townships["将官池镇"].pk,
                                             "receiver_name": "陈晓东"},
                  ok={"clerk", "approver"}),
    "transfer_to_discipline": Row("assigned", lambda j, k: {
        "unit": j.discipline.pk, "reason": "涉嫌违纪", "receiver_name": "吴刚"},
        ok={"clerk", "approver"}),
    "reassign": Row("in_progress", lambda j, k: {
        "lead": j.townships["五女店镇"].pk, "reason": "交办有误", "receiver_name": "马俊"},
        ok={"clerk", "approver"}),
    "sign_for": Row("assigned", ok=HANDLERS_OF_PLAIN),
    "log_contact": Row("in_progress", lambda j, k: {"kind": "phone", "note": "电话联系"},
                       ok=EITHER),
    "deliver_acceptance_notice": Row("in_progress", lambda j, k: {
        "mode": "in_person", "deliverer": "陈晓东", "recipient": "张三明"}, ok=EITHER),
    # Only an opinion incident (舆情件) is reported to the publicity offices (issue 15).
    "notify_offices": Row("in_progress", lambda j, k: {"offices": "区委宣传部"}, ok=EITHER,
                          registration={"kind": c.Kind.OPINION_INCIDENT}),
    "submit_report": Row("in_progress", lambda j, k: {"kind": "initial", "text": "初步核实"},
                         ok=EITHER),
    "record_finding": Row("in_progress", lambda j, k: {"findings": {"1": ["true", "solved",
                                                                            "属实"]}},
                          ok=HANDLERS_OF_PLAIN),
    "request_extension": Row("in_progress", lambda j, k: {
        "reason": "情况复杂", "progress_report": "调查中", "expected_completion": "2026-12-31"},
        ok=HANDLERS_OF_PLAIN),
    "approve_extension": Row("extension_requested", ok={"approver"}),
    "refuse_extension": Row("extension_requested", lambda j, k: {"note": "请按期办结"},
                            ok={"approver"}),
    "draft_letter": Row("found", lambda j, k: {"body": "经核查……"},
                        ok={"clerk"} | HANDLERS_OF_PLAIN),
    "return_letter": Row("letter_drafted", lambda j, k: {"reason": "请写明复查途径"},
                         ok={"approver", "chief"}),
    "approve_letter": Row("letter_drafted", ok={"approver", "chief"}),
    "issue_letter": Row("letter_approved", ok={"clerk"} | HANDLERS_OF_PLAIN),
    "record_delivery": Row("letter_issued", lambda j, k: {
        "mode": "in_person", "delivered_at": _ago(), "deliverer": "陈晓东", "recipient": "张三明",
        "receipt_signed": True}, ok={"clerk"} | HANDLERS_OF_PLAIN),
    "record_rating": Row("delivered", lambda j, k: {"rating": "satisfied"},
                         ok={"clerk"} | HANDLERS_OF_PLAIN),
    "record_pledge": Row("delivered", lambda j, k: {"text": "息诉罢访"},
                         ok={"clerk"} | HANDLERS_OF_PLAIN),
    "report_back": Row("delivered", lambda j, k: {"note": "已报市局"}, ok={"clerk", "approver"},
                       registration=CITY_REFERRAL),
    "close": Row("delivered", ok={"approver"}, rule={"chief"}),  # the profile: approver closes
    "archive": Row("closed", ok={"clerk"}),
    # A review is registered one level up (the city office) — and, under jianan's 附件6, by the
    # district office itself, the level above the township that answered (seedrules, issue 12).
    "open_review": Row("closed", lambda j, k: {"received_at": _ago(2), "reason": "不服"},
                       ok={"city_clerk", "clerk"}, outside_ok={"city_clerk"}),
    "reopen": Row("closed", lambda j, k: {"reason": "反弹"}, ok={"approver", "chief"}),
    # The approver files the signed answer to a warning notice (seed 004 §二(二)).
    "answer_warning": Row("in_progress", lambda j, k: {
        "rule": "matrix_notice", "cause": "资金未到位", "measures": "限期发放"},
        ok={"approver"}, prepare=_with_warning_notice),
    "set_leader_owner": Row("in_progress", lambda j, k: {"leader": j.member("approver").user.pk},
                            ok={"approver", "chief"}),
}


def test_the_matrix_covers_every_transition_of_the_workflow_table():
    assert set(ROWS) == set(TRANSITIONS)


def seen_inside(row: Row, role: str) -> bool:
    assigned = row.at not in ("registered", "proposed", "signed_off")
    return role in OFFICE_SEES or (assigned and role in HANDLERS_OF_PLAIN)


def expected_act(row: Row, cell: str) -> int:
    side, role = cell.split(":")
    if role in ADMINS:
        return 403
    if side == "outside":
        if role != "city_clerk":
            return 404
        return 200 if role in row.outside_ok else 403
    if role in row.ok:
        return 200
    if role in row.rule:
        return 422
    return 403 if seen_inside(row, role) else 404


def attempt(member, case: Case, name: str, body: dict) -> int:
    """One POST in a savepoint that is rolled back: the next member finds the case unchanged."""
    with transaction.atomic():
        events = case.events.count()
        response = client_as(member).post(f"/api/cases/{case.pk}/transitions/{name}/", body,
                                          format="json")
        if response.status_code == 200:
            last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
            assert (last.type, last.actor) == (name, member.user)
        elif response.status_code in (403, 422):
            assert response.json()["detail"]
            assert case.events.count() == events  # a refusal writes nothing
        transaction.set_rollback(True)
    return response.status_code


@pytest.mark.parametrize("name", list(ROWS))
def test_who_may_take_each_transition(districts, name):
    row = ROWS[name]
    j = districts[row.home]
    case = walk(j, row.at, **row.registration)
    if row.prepare:
        case = row.prepare(j, case)
    body = {"expected_version": case.version, **row.body(j, case)}
    got = {cell: attempt(member, case, name, body)
           for cell, member in actors(districts, row.home)}
    expected = {cell: expected_act(row, cell) for cell in got}
    assert got == expected


# -- a confidential petitioner through merge, review, a later petition and the export ------------
#
# Confidentiality belongs to the person (issue 8). She asked for it in one case; the case she is
# then copied or linked into is ordinary. For each path, every member reads the derived case's
# page, asks to reveal her there, reads it over the API (detail and list) and exports the L0
# ledger; the cell holds the channels in which her name, ID number or phone appeared in clear.

SECRET_NAME, SECRET_PHONE = "李秘芳", "13900001111"
HANDLERS_OF_REVIEW = JIANGGUANCHI | {"bureau"}


def _secret_person():
    from tests.conftest import id_number
    from xinfang.cases.services import PetitionerInput

    return PetitionerInput(name=SECRET_NAME, id_number=id_number("41102319850505234"),
                           phone=SECRET_PHONE, address="将官池镇岗朱村5组")


def _merged(j) -> Case:
    target = walk(j, "in_progress", matter="普通件")
    source = register_in(j, matter="要求保密", confidential=True, petitioners=[_secret_person()])
    perform("merge", case=source, by=j.member("clerk"), into=target)
    return target


def _reviewed(j) -> Case:
    from xinfang.cases.models import Assignment

    original = walk(j, "closed", matter="要求保密", confidential=True,
                    petitioners=[_secret_person()])
    perform("open_review", case=original, by=j.member("city_clerk"), reason="不服",
            clerk=j.member("city_clerk"), received_at=timezone.now() - timedelta(hours=2))
    review = original.reviews.get()
    # The city office has the review handled by 将官池镇 and 区民政局.
    for unit in (j.townships["将官池镇"], j.bureaus["区民政局"]):
        Assignment.objects.create(case=review, unit=unit, role=c.AssignmentRole.LEAD,
                                  assigned_at=timezone.now(), receiver_name="陈晓东",
                                  assigned_by=j.member("city_clerk").user)
    return review


def _repeated(j) -> Case:
    register_in(j, matter="要求保密", confidential=True, petitioners=[_secret_person()])
    return walk(j, "in_progress", matter="又来反映低保问题", petitioners=[_secret_person()])


CONFIDENTIAL_PATHS = {"merge": _merged, "review": _reviewed, "repeat": _repeated}
# Written from the rule: only the derived case's own petition office reveals her — never its
# handling units, inspectors, other districts or administrators. After a merge she is a
# companion, and L0 lists main petitioners only, so no export shows her in the target's row.
WHO_READS_HER = {
    "merge": {f"inside:{r}": {"reveal"} for r in ("clerk", "approver", "chief")},
    "review": {f"{side}:city_clerk": {"reveal", "export"} for side in ("inside", "outside")},
    "repeat": {f"inside:{r}": {"reveal", "export"} for r in ("clerk", "approver", "chief")},
}


def _leaks(text: str, secret) -> bool:
    return any(value and value in text for value in (SECRET_NAME, secret.id_number, SECRET_PHONE))


def read_her(member, case: Case, secret) -> set[str]:
    """The channels in which ``member`` read the confidential petitioner of ``case`` in clear."""
    api, web = client_as(member), Client()
    web.force_login(member.user)
    session = web.session
    session["membership_id"] = member.pk
    session.save()
    found = set()
    if _leaks(web.get(reverse("web:case", args=[case.pk])).content.decode(), secret):
        found.add("page")
    response = web.post(reverse("web:case_reveal", args=[case.pk]),
                        {"petitioner": secret.pk, "reason": "核实身份"})
    if _leaks(response.content.decode(), secret):
        assert response.status_code == 200
        found.add("reveal")
    if _leaks(api.get(f"/api/cases/{case.pk}/").content.decode(), secret):
        found.add("api-detail")
    if _leaks(api.get("/api/cases/", {"page_size": 100}).content.decode(), secret):
        found.add("api-list")
    # Unmasked, with a reason: the most an export can ever show this membership.
    export = api.get("/api/ledgers/l0.xlsx", {"unmasked": "true", "reason": "核对信访人身份"})
    if export.status_code == 200:
        rows = [row for row in read_sheet(export.getvalue())[1:] if row[0] == case.number]
        if _leaks(repr(rows), secret):
            found.add("export")
    return found


@pytest.mark.parametrize("path", list(CONFIDENTIAL_PATHS))
def test_who_reads_a_confidential_petitioner_after_merge_review_and_repeat(districts, path):
    j = districts["jianan"]
    case = CONFIDENTIAL_PATHS[path](j)
    secret = case.petitioner_links.select_related("petitioner").get(
        petitioner__id_number_index=_secret_index()).petitioner
    assert secret.name == SECRET_NAME
    got = {cell: read_her(member, case, secret) for cell, member in actors(districts, "jianan")}
    expected = {cell: WHO_READS_HER[path].get(cell, set()) for cell in got}
    assert got == expected
    # Every reveal that happened was audited; none was refused silently into the log.
    reveals = AuditEntry.objects.filter(action="reveal", object_id=str(secret.pk)).count()
    assert reveals == sum("reveal" in channels for channels in expected.values())


def _secret_index() -> str:
    from tests.conftest import id_number
    from xinfang.security.crypto import get_keyring

    return get_keyring().blind_index(id_number("41102319850505234"), purpose="id_number")
