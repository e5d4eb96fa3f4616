"""The practices API's writes to an object its path names (a watch entry, a persuade-to-return
record, a campaign, a task): an object absent, or out of the caller's sight, is a 404 whatever
the body — and the same 404, so that the answer never tells an unseen object exists. Those who
may see it still have their body checked (400)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse

from tests.conftest import register_in, sh
from tests.practices.test_duty_and_persuade import GROUP
from tests.web.conftest import signed_in
from xinfang.cases.services import DemandInput
from xinfang.practices.services import (
    campaign_create,
    campaign_task_add,
    persuade_form,
    watch_add,
)
from xinfang.rules.profile import shipped_profiles

pytestmark = pytest.mark.django_db



def _campaign(j):
    return campaign_create(
        by=j.member("clerk"), name="积案大会战", goals="积案清零", starts_on=date(2026, 3, 1),
        ends_on=date(2026, 12, 31), unit_ids=[j.townships["将官池镇"].pk], now=sh(2026, 3, 1, 9),
    )


def _task(j):
    return campaign_task_add(by=j.member("clerk"), campaign_id=_campaign(j).pk,
                             unit_id=j.townships["将官池镇"].pk, title="大排查",
                             due_on=date(2026, 10, 31))


def _watch(j):
    case = register_in(j)
    return watch_add(
        by=j.member("clerk"), case_id=case.pk,
        petitioner_id=case.petitioner_links.get().petitioner_id,
        owner_id=j.member("township").pk, reason="越级访苗头", plan="每周走访", status="watch",
        now=sh(2026, 10, 12, 9),
    )


def _persuade(jurisdiction):
    li = jurisdiction("lihai")
    category = shipped_profiles()["lihai"].categories[0]
    case = register_in(li, demands=[DemandInput(text="要求落实帮扶", category=category)],
                       level_skipping=True)
    return persuade_form(by=li.member("clerk"), case_id=case.pk, level="province",
                         place="省信访局", reported_at=sh(2026, 10, 10, 9), members=GROUP,
                         now=sh(2026, 10, 10, 10))


# name → (the object and the membership who may see it, the one who may not, a valid body)
ENDPOINTS = {
    "watch-reviews": (lambda j, jur: (_watch(j), j.member("clerk")), "bureau",
                      {"stability": "stable", "note": "稳定"}),
    "persuade-returned": (lambda j, jur: (_persuade(jur), None), "clerk",
                          {"returned_at": "2026-10-10T18:00:00+08:00", "note": "已返回"}),
    "persuade-follow-up": (lambda j, jur: (_persuade(jur), None), "clerk",
                           {"follow_up_kind": "appointment", "at": "2026-10-10T20:00:00+08:00",
                            "note": "约访"}),
    "campaign-tasks": (lambda j, jur: (_campaign(j), j.member("clerk")), "bureau",
                       {"unit": 1, "title": "一案一策", "due_on": "2026-11-30"}),
    "campaign-reports": (lambda j, jur: (_campaign(j), j.member("clerk")), "bureau",
                         {"summary": "本月进展"}),
    "task-progress": (lambda j, jur: (_task(j), j.member("township")), "bureau",
                      {"progress": 40, "note": "推进中"}),
}

BODIES = {
    "valid": None,  # the endpoint's own
    "empty": {},
    "wrong types": {"progress": "x", "at": "x", "returned_at": 5, "summary": [], "due_on": 7,
                    "stability": "x"},
    "not JSON": "{not json",
}


def _post(client, url, body, **headers):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, raw, content_type="application/json", headers=headers)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_an_unseen_or_absent_object_is_the_same_404_whatever_the_body(
    jianan, jurisdiction, name, body
):
    # given an object, and a member of the jianan county who may not see it
    build, stranger, valid = ENDPOINTS[name]
    obj, _owner = build(jianan, jurisdiction)
    client = signed_in(jianan.member(stranger))
    sent = valid if BODIES[body] is None else BODIES[body]
    # when the stranger writes to it, and to an id nobody holds, with the same body
    unseen = _post(client, reverse(f"practices_api:{name}", args=[obj.pk]), sent)
    absent = _post(client, reverse(f"practices_api:{name}", args=[obj.pk + 1000]), sent)
    # then both are the same 404: the body is not read for an object out of sight
    assert unseen.status_code == 404, unseen.content.decode()
    assert unseen.json() == absent.json()
    assert unseen.json()["code"] == "not_found"


@pytest.mark.parametrize("name", ["watch-reviews", "campaign-tasks"])
def test_an_idempotency_key_is_not_read_for_an_unseen_object(jianan, jurisdiction, name):
    # given an object the bureau may not see, and a write the API keeps by its key
    build, stranger, valid = ENDPOINTS[name]
    obj, _owner = build(jianan, jurisdiction)
    client = signed_in(jianan.member(stranger))
    url = reverse(f"practices_api:{name}", args=[obj.pk])
    # when it is sent with a key that is not one, and with an unparseable body
    for headers, body in (({"Idempotency-Key": ""}, valid), ({"Idempotency-Key": "k1"}, "{x")):
        # then it is the 404, not an answer about the key or the body
        assert _post(client, url, body, **headers).status_code == 404


@pytest.mark.parametrize("name", ["watch-reviews", "campaign-reports", "task-progress"])
def test_those_who_may_see_the_object_still_have_the_body_checked(jianan, jurisdiction, name):
    build, _stranger, _valid = ENDPOINTS[name]
    obj, owner = build(jianan, jurisdiction)
    response = _post(signed_in(owner), reverse(f"practices_api:{name}", args=[obj.pk]),
                     BODIES["wrong types"])
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_an_id_past_the_database_integer_is_absent_too(jianan):
    client = signed_in(jianan.member("clerk"))
    url = reverse("practices_api:campaign-reports", args=[10**30])
    assert _post(client, url, {"summary": "x"}).status_code == 404
