"""``POST /api/matches/`` and ``xinfang match --as USER [--register]`` (issue 14)."""

import io
import json

import pytest
from django.core.management import call_command

from tests.api.world import client_as, walk
from tests.conftest import id_number, sh
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput

pytestmark = pytest.mark.django_db
ID = id_number("41102319800101123")

LINE = {
    "name": "王秀澜", "id_number": "", "phone": "139 1234 5678", "township": "将官池镇",
    "village": "岗朱村", "matter": "危房改造补助款一直没有到位，要求发放2025年危房改造补助",
    "category": "危房改造", "channel": "visit", "received_at": "2026-09-20T09:30:00+08:00",
}


def earlier(j, state="registered", **kw):
    base = dict(
        petitioners=[PetitionerInput(name="王秀兰", phone="13912345678", id_number=ID)],
        matter="反映危房改造补助未到位",
        demands=[DemandInput(text="要求落实2025年危房改造补助", category="危房改造")],
    )
    return walk(j, state, **(base | kw))


def test_the_api_answers_the_issue_shape(jianan):
    case = earlier(jianan)
    r = client_as(jianan.member("clerk")).post("/api/matches/", LINE, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert list(body) == ["candidates"] and len(body["candidates"]) == 1
    top = body["candidates"][0]
    assert top["case"] == case.number and top["same"] == "matter" and 0 < top["score"] <= 1
    assert top["reasons"][:2] == ["同一手机号", "姓名同音"]
    assert top["reasons"][2].startswith("诉求相似 ")


def test_the_api_names_the_field_in_error(jianan):
    r = client_as(jianan.member("clerk")).post(
        "/api/matches/", LINE | {"village": "不存在村"}, format="json")
    assert r.status_code == 400 and "village" in r.json()["errors"]


def test_the_api_reads_a_village_without_its_township_or_with_it_written_in(jianan):
    case = earlier(jianan)
    client = client_as(jianan.member("clerk"))
    for place in ({"township": "", "village": "岗朱"},
                  {"township": "", "village": "将官池镇岗朱村"}):
        r = client.post("/api/matches/", LINE | place | {"phone": ""}, format="json")
        assert [x["case"] for x in r.json()["candidates"]] == [case.number], place


def test_only_cases_the_caller_may_see(jianan):
    earlier(jianan)
    r = client_as(jianan.member("bureau")).post("/api/matches/", LINE, format="json")
    assert r.status_code == 200 and r.json()["candidates"] == []


def test_a_reader_who_may_not_reveal_the_person_gets_no_identity_evidence(jianan):
    """The inspector reads the case masked: the same ID number must not tell them who it is."""
    case = earlier(jianan)
    line = LINE | {"name": "某某", "id_number": ID, "phone": "", "matter": "咨询宅基地",
                   "category": "其他"}
    clerk = client_as(jianan.member("clerk")).post("/api/matches/", line, format="json").json()
    assert clerk["candidates"][0]["reasons"] == ["同一身份证号"]
    assert clerk["candidates"][0]["case"] == case.number
    inspector = client_as(jianan.member("inspector")).post("/api/matches/", line, format="json")
    assert inspector.json()["candidates"] == []


def test_a_confidential_person_is_not_found_by_the_handling_unit(jianan):
    case = earlier(jianan, "in_progress", confidential=True)
    line = LINE | {"id_number": ID, "matter": "咨询宅基地", "category": "其他"}
    township = client_as(jianan.member("township"))
    assert township.post("/api/matches/", line, format="json").json()["candidates"] == []
    ordinary = earlier(jianan, "in_progress", petitioners=[
        PetitionerInput(name="赵大勇", phone="13700000000")])
    found = township.post("/api/matches/", line | {"name": "赵大勇", "phone": "13700000000",
                                                   "id_number": ""}, format="json").json()
    assert [x["case"] for x in found["candidates"]] == [ordinary.number]
    assert case.number not in json.dumps(found)


def test_a_confidential_person_beside_an_ordinary_one_is_not_found_by_the_handling_unit(jianan):
    """Revealable must be the looked-up person's own link: the ordinary co-petitioner's link on
    the same case neither reveals the confidential person nor stands in for them."""
    case = earlier(jianan, "in_progress", petitioners=[
        PetitionerInput(name="王秀兰", phone="13912345678", id_number=ID, confidential=True),
        PetitionerInput(name="赵大勇", phone="13700000000", role="representative")])
    line = LINE | {"id_number": ID, "matter": "咨询宅基地", "category": "其他"}
    township = client_as(jianan.member("township"))
    r = township.post("/api/matches/", line, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["candidates"] == []
    clerk = client_as(jianan.member("clerk")).post("/api/matches/", line, format="json").json()
    assert [x["case"] for x in clerk["candidates"]] == [case.number]
    assert clerk["candidates"][0]["reasons"] == ["同一身份证号"]


def run(member, lines, *args):
    out = io.StringIO()
    text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    call_command("match", "--as", member.user.username, *args, stdin=io.StringIO(text),
                 stdout=out)
    return [json.loads(x) for x in out.getvalue().splitlines()]


def test_the_command_answers_one_line_per_line_in_order(jianan):
    case = earlier(jianan)
    results = run(jianan.member("clerk"), [LINE, LINE | {"village": "火星村"}, LINE | {
        "name": "钱多多", "phone": "", "matter": "孩子上学补助", "category": "教育保障"}])
    assert [r["line"] for r in results] == [1, 2, 3]
    assert results[0]["candidates"][0]["case"] == case.number
    assert "village" in results[1]["errors"]
    assert results[2]["candidates"] == []


def test_the_command_registers_and_replays_a_history(jianan):
    """A history file: the same woman three times (the last without township), then a
    stranger. Each line registers at its received_at; repeats link to the visit before."""
    lines = [
        LINE | {"name": "王秀兰", "received_at": "2026-03-02T09:00:00+08:00"},
        LINE | {"received_at": "2026-05-11T10:00:00+08:00"},
        LINE | {"name": "王兰秀", "township": "", "received_at": "2026-08-03T10:00:00+08:00"},
        LINE | {"name": "钱多多", "phone": "13600000000", "matter": "反映低保被取消",
                "category": "民政救助", "received_at": "2026-08-04T10:00:00+08:00"},
    ]
    results = run(jianan.member("clerk"), lines, "--register")
    assert all("registered" in r for r in results), results
    cases = [Case.objects.get(number=r["registered"]) for r in results]
    assert [x.repeat_count for x in cases] == [0, 1, 2, 0]
    assert cases[2].repeat_of == cases[1] and cases[1].repeat_of == cases[0]
    assert results[0]["candidates"] == [] and results[2]["repeat_of"] == cases[1].number
    assert cases[0].received_at == sh(2026, 3, 2, 9)
    assert len({x.main_petitioner.pk for x in cases[:3]}) == 1
    told = cases[2].events.get(type="register").payload
    assert told["repeat_of"] == cases[1].number and told["match"]["by"] == "threshold"


def test_the_command_refuses_a_user_it_does_not_know(jianan):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        run(type("M", (), {"user": type("U", (), {"username": "nobody"})})(), [LINE])


def test_an_office_above_reads_the_case_but_gets_no_identity_evidence(jianan):
    """The city's office sees the county's case through its door, but only the county's own
    office reveals its petitioners: the same ID number must not tell the city who it is."""
    from xinfang.cases.selectors import cases_for

    case = earlier(jianan)
    city = jianan.member("city_clerk")
    assert cases_for(city).filter(pk=case.pk).exists()  # the door lets the city read it
    line = LINE | {"name": "某某", "id_number": ID, "phone": "", "matter": "咨询宅基地",
                   "category": "其他"}
    assert client_as(city).post("/api/matches/", line, format="json").json()["candidates"] == []
    clerk = client_as(jianan.member("clerk")).post("/api/matches/", line, format="json").json()
    assert [x["case"] for x in clerk["candidates"]] == [case.number]


def test_a_place_written_in_digits_no_id_holds_is_an_error_naming_it_not_a_500(jianan):
    # "²" is a digit to str.isdigit() and no number to int()
    client = client_as(jianan.member("clerk"))
    for place in ({"township": "²"}, {"village": "¹²"}):
        r = client.post("/api/matches/", LINE | place, format="json")
        assert r.status_code == 400 and set(r.json()["errors"]) & set(place), r.content
