"""The answer to a registration is the case as ``GET /api/cases/{id}/`` shows it, built from
what the registration wrote instead of reading it all back (``views.registered_case``): the
same JSON for a new person, a person on file, a confidential registration, respondents, a
backdated case already overdue, a collective petition with its warning; and fewer statements."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.world import client_as
from tests.conftest import COUNTIES, id_number
from xinfang.cases.models import Case

pytestmark = pytest.mark.django_db

PERSON = {"name": "张三明", "id_number": id_number("41102319800101123"),
          "phone": "13812345678", "address": "将官池镇岗朱村3组", "exited_household": True}


def body(jianan, **change) -> dict:
    return {
        "channel": "visit", "matter": "反映危房改造补助未到位",
        "received_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "township": jianan.townships["将官池镇"].pk, "village": jianan.villages["岗朱村"].pk,
        "petitioners": [PERSON],
        "demands": [{"text": "要求落实2025年危房改造补助", "category": "危房改造"},
                    {"text": "要求公开评定结果", "category": "危房改造"}],
        **change,
    }


def registered_and_read(client, data: dict) -> tuple[dict, dict, int]:
    with CaptureQueriesContext(connection) as ctx:
        answer = client.post("/api/cases/", data, format="json")
    assert answer.status_code == 201, answer.content
    shown = client.get(f"/api/cases/{answer.json()['id']}/")
    assert shown.status_code == 200
    return answer.json(), shown.json(), len(ctx.captured_queries)


def test_the_answer_is_the_detail_for_every_kind_of_registration(jianan):
    clerk = client_as(jianan.member("clerk"))
    village = jianan.villages["岗朱村"].pk
    kinds = {
        "new person, respondents": body(jianan, headcount=2, respondents=[
            {"name": "岗朱村村委会", "unit": village}, {"name": "李四", "position": "村支书"}]),
        # the same ID number: the person on file (found by the matching or by the index)
        "person on file": body(jianan, matter="再次反映危房改造补助未到位",
                               petitioners=[PERSON, {"name": "王五", "role": "representative"}]),
        "confidential": body(jianan, confidential=True, leader_instruction="请依法依规办理",
                             petitioners=[{"name": "赵六", "phone": "13900001111"}]),
        "backdated, overdue": body(jianan, received_at=(
            timezone.now() - timedelta(days=40)).isoformat(),
            petitioners=[{"name": "钱七", "phone": "13900002222"}]),
        "collective": body(jianan, headcount=30, channel="letter",
                           petitioners=[{"name": f"孙{i}", "phone": f"1390000333{i}"}
                                        for i in range(6)]),
    }
    answers = {}
    for kind, data in kinds.items():
        answers[kind], shown, _ = registered_and_read(clerk, data)
        assert answers[kind] == shown, kind
    # the kinds are what they say: an overdue case, a collective one, a person on file
    assert answers["backdated, overdue"]["overdue"] and not answers["confidential"]["overdue"]
    assert Case.objects.get(pk=answers["collective"]["id"]).collective
    first, again = (Case.objects.get(pk=answers[k]["id"]).main_petitioner
                    for k in ("new person, respondents", "person on file"))
    assert first == again


@pytest.mark.parametrize("code", sorted(COUNTIES))
def test_the_answer_is_the_detail_under_every_profile(jurisdiction, code):
    """Each profile starts its own clocks and raises its own warnings at registration."""
    from xinfang.rules.store import current_version, profile_of

    j = jurisdiction(code)
    clerk = client_as(j.member("clerk"))
    category = next(iter(profile_of(current_version(code)).categories))
    demands = [{"text": "要求落实2025年危房改造补助", "category": category}]
    backdated = (timezone.now() - timedelta(days=20)).isoformat()
    crowd = [{"name": f"孙{i}", "phone": f"1390000555{i}"} for i in range(6)]
    for data in (body(j, demands=demands),
                 body(j, demands=demands, headcount=30, key_case=True, received_at=backdated,
                      petitioners=crowd)):
        answer, shown, _ = registered_and_read(clerk, data)
        assert answer == shown
        assert answer["clocks"]


def test_the_full_answer_costs_one_statement_more_than_the_minimal_one(jianan):
    clerk = client_as(jianan.member("clerk"))
    clerk.post("/api/cases/", body(jianan), format="json")  # the year's numbering begun
    counts = {}
    for prefer, name, matter in (("return=minimal", "周八", "反映低保资格被取消"),
                                 ("", "吴九", "反映道路硬化工程未完工")):
        data = body(jianan, matter=matter, petitioners=[{"name": name}],
                    demands=[{"text": matter, "category": "其他"}])
        with CaptureQueriesContext(connection) as ctx:
            response = clerk.post("/api/cases/", data, format="json", HTTP_PREFER=prefer)
        assert response.status_code == 201, response.content
        counts[prefer] = len(ctx.captured_queries)
    # the door: not the case, its people, demands, respondents, clocks, assignments and
    # history again
    assert counts[""] == counts["return=minimal"] + 1, counts


def test_clocks_falling_due_at_one_instant_are_listed_as_the_answer_lists_them(jianan):
    # Registered early on a Friday: the 1-day contact limit and the 3-day visit limit both roll
    # over the weekend to Monday 24:00. The answer lists the registration's clocks in hand; the
    # detail reads them in the model's order, which must break the tie the same way (it did
    # not: the tie came back in whatever order the database sorted it).
    from tests.conftest import register_in, sh

    case = register_in(jianan, at=sh(2026, 12, 4, 3, 55), received_at=sh(2026, 12, 4, 3, 0))
    answered = case.written.clocks
    due = [k.due_at for k in answered]
    assert len(due) > len(set(due)), "the scenario needs two clocks due at one instant"
    # Rewrite the first of the tied clocks: PostgreSQL now keeps its row after the other, so a
    # sort by the due instant alone returns the tie the other way round.
    tied = next(k for i, k in enumerate(answered) if k.due_at in due[i + 1:])
    type(tied).objects.filter(pk=tied.pk).update(label=tied.label)
    assert [k.pk for k in Case.objects.get(pk=case.pk).clocks.all()] == [k.pk for k in answered]
