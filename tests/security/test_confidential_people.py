"""Confidentiality belongs to the petitioner, not to the case they end up in (issue 8).

The attack: merge a confidential case into an ordinary one; its petitioner is copied in as a
companion, and the township and the bureau handling the ordinary case then revealed her full name,
ID number and phone. The same through a review, and through a later petition of the same person.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.api.world import client_as, read_sheet, walk
from tests.conftest import id_number, register_in
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.disclosure import may_reveal_petitioner
from xinfang.cases.models import Assignment, Case, CasePetitioner, Petitioner
from xinfang.cases.services import PetitionerInput, perform

pytestmark = pytest.mark.django_db

SECRET_NAME = "李秘芳"
SECRET_ID = id_number("41102319850505234")
SECRET_PHONE = "13900001111"
SECRET = (SECRET_NAME, SECRET_ID, SECRET_PHONE)
UNITS = ("township", "township_head", "proxy", "bureau")  # lead 将官池镇, assisting 区民政局


def secret_person(**overrides) -> PetitionerInput:
    return PetitionerInput(name=SECRET_NAME, id_number=SECRET_ID, phone=SECRET_PHONE,
                           address="将官池镇岗朱村5组", **overrides)


def register_secret(j, **overrides):
    return register_in(j, matter="反映村干部优亲厚友，要求保密", confidential=True,
                       petitioners=[secret_person()], **overrides)


def reveal(member, case, petitioner):
    return signed_in(member).post(reverse("web:case_reveal", args=[case.pk]),
                                  {"petitioner": petitioner.pk, "reason": "核实身份"})


def leaked(text: str) -> list[str]:
    return [value for value in SECRET if value in text]


def assert_masked_for_units(j, case, secret):
    for role in UNITS:
        member = j.member(role)
        response = reveal(member, case, secret)
        assert response.status_code == 403, role
        assert leaked(response.content.decode()) == [], role
        page = signed_in(member).get(reverse("web:case", args=[case.pk])).content.decode()
        assert leaked(page) == [], role
        assert may_reveal_petitioner(case, secret, member) is False
    assert not AuditEntry.objects.filter(action="reveal", object_id=str(secret.pk)).exists()


def test_merging_a_confidential_case_keeps_its_petitioner_masked_for_the_handling_units(jianan):
    j = jianan
    target = walk(j, "in_progress")  # ordinary: 张三明, handled by 将官池镇 with 区民政局
    source = register_secret(j)
    secret = source.main_petitioner
    perform("merge", case=source, by=j.member("clerk"), into=target, note="同一事项")

    copy = target.petitioner_links.get(petitioner=secret)
    assert copy.role == c.PetitionerRole.COMPANION and copy.confidential
    target.refresh_from_db()
    assert target.confidential
    assert_masked_for_units(j, target, secret)
    # The ordinary petitioner of the same case can still be revealed by the township: per person.
    assert reveal(j.member("township"), target, target.main_petitioner).status_code == 200
    # The office reveals her, with its reason logged.
    response = reveal(j.member("clerk"), target, secret)
    assert response.status_code == 200 and SECRET_NAME in response.content.decode()


def test_merging_keeps_the_confidentiality_of_a_person_already_in_the_target(jianan):
    j = jianan
    target = walk(j, "in_progress", petitioners=[secret_person()])  # she came openly first
    source = register_secret(j)  # then asked for secrecy
    perform("merge", case=source, by=j.member("clerk"), into=target)
    secret = source.main_petitioner
    assert target.petitioner_links.get(petitioner=secret).confidential
    assert_masked_for_units(j, target, secret)


def test_a_review_keeps_the_petitioner_confidential(jianan):
    j = jianan
    original = walk(j, "closed", matter="要求保密", confidential=True,
                    petitioners=[secret_person()])
    secret = original.main_petitioner
    perform("open_review", case=original, by=j.member("city_clerk"), clerk=j.member("city_clerk"),
            received_at=timezone.now() - timedelta(hours=2), reason="对处理意见不服")
    review = original.reviews.get()
    link = review.petitioner_links.get()
    assert link.petitioner == secret and link.confidential and review.confidential
    # The city office has the review handled by 将官池镇 and 区民政局.
    for unit in (j.townships["将官池镇"], j.bureaus["区民政局"]):
        Assignment.objects.create(case=review, unit=unit, role=c.AssignmentRole.LEAD,
                                  assigned_at=timezone.now(), receiver_name="陈晓东",
                                  assigned_by=j.member("city_clerk").user)
    assert_masked_for_units(j, review, secret)


def test_a_review_of_a_person_without_id_number_links_the_same_person(jianan):
    j = jianan
    original = walk(j, "closed", confidential=True,
                    petitioners=[PetitionerInput(name=SECRET_NAME, phone=SECRET_PHONE)])
    perform("open_review", case=original, by=j.member("city_clerk"), clerk=j.member("city_clerk"),
            received_at=timezone.now() - timedelta(hours=2), reason="不服")
    link = original.reviews.get().petitioner_links.get()
    assert link.petitioner == original.main_petitioner  # no unflagged copy of her
    assert link.confidential


def test_a_later_petition_of_a_confidential_person_keeps_her_masked(jianan):
    j = jianan
    first = register_secret(j)
    # She comes back with another matter and does not repeat the request: still hers.
    later = walk(j, "in_progress", matter="反映低保评定不公", petitioners=[secret_person()])
    secret = later.main_petitioner
    assert secret == first.main_petitioner and later.repeat_of == first
    assert later.petitioner_links.get().confidential and later.confidential
    assert_masked_for_units(j, later, secret)


def test_a_person_linked_by_the_clerk_keeps_her_confidentiality(jianan):
    j = jianan
    first = register_secret(j)
    secret = first.main_petitioner
    later = walk(j, "in_progress", petitioners=[PetitionerInput(name="", petitioner_id=secret.pk)])
    assert later.main_petitioner == secret
    assert_masked_for_units(j, later, secret)


def test_one_confidential_companion_does_not_mask_the_others(jianan):
    j = jianan
    case = walk(j, "in_progress", petitioners=[
        PetitionerInput(name="张三明", id_number=id_number("41102319800101123")),
        secret_person(role=c.PetitionerRole.COMPANION, confidential=True),
    ])
    links = {link.petitioner.name: link for link in case.petitioner_links.select_related(
        "petitioner")}
    assert links[SECRET_NAME].confidential and not links["张三明"].confidential
    township = j.member("township")
    assert may_reveal_petitioner(case, links["张三明"].petitioner, township)
    assert not may_reveal_petitioner(case, links[SECRET_NAME].petitioner, township)


def test_a_person_of_another_case_is_not_revealed_through_this_one(jianan):
    j = jianan
    mine = walk(j, "in_progress")
    other = register_in(j, petitioners=[PetitionerInput(name="王五", phone="13700001234")])
    stranger = other.main_petitioner
    assert not may_reveal_petitioner(mine, stranger, j.member("clerk"))
    response = reveal(j.member("clerk"), mine, stranger)
    assert response.status_code == 404 and "王五" not in response.content.decode()


UNMASKED = {"unmasked": "true", "reason": "核对信访人身份"}


def test_the_export_masks_a_merged_in_confidential_main_petitioner_per_person(jianan):
    j = jianan
    source = register_secret(j)
    target = walk(j, "in_progress")
    perform("merge", case=source, by=j.member("clerk"), into=target)
    def sheet_of(role):
        # Unmasked, with a reason: the most an export can ever show this membership.
        response = client_as(j.member(role)).get("/api/ledgers/l0.xlsx", UNMASKED)
        return read_sheet(response.getvalue())

    for role in ("township", "bureau", "inspector", "city_clerk"):
        assert leaked(repr(sheet_of(role))) == [], role
    assert SECRET_NAME in repr(sheet_of("clerk"))


def test_migrated_confidential_cases_mark_their_people(jianan):
    """The data migration's rule, run on rows as the old code left them: only the case flagged."""
    from importlib import import_module

    from django.apps import apps

    j = jianan
    secret_case = register_in(j, petitioners=[secret_person()])
    other = register_in(j, petitioners=[secret_person()])  # the same person, an ordinary case
    CasePetitioner.objects.update(confidential=False)
    Petitioner.objects.update(confidential=False)
    Case.objects.filter(pk=secret_case.pk).update(confidential=True)
    migration = import_module("xinfang.cases.migrations.0006_people_confidential")
    migration.people_of_confidential_cases(apps, None)
    assert Petitioner.objects.get().confidential
    assert other.petitioner_links.get().confidential


def test_the_api_registers_one_confidential_companion_and_says_so(jianan):
    j = jianan
    body = {
        "channel": "visit", "matter": "反映危房改造补助未到位",
        "received_at": "2026-09-14T09:30:00+08:00",
        "petitioners": [
            {"name": "张三明", "phone": "13812345678"},
            {"name": SECRET_NAME, "id_number": SECRET_ID, "phone": SECRET_PHONE,
             "role": "companion", "confidential": True},
        ],
        "demands": [{"text": "要求落实2025年危房改造补助", "category": "危房改造"}],
    }
    response = client_as(j.member("clerk")).post("/api/cases/", body, format="json")
    assert response.status_code == 201, response.content
    shown = {p["name"]: p["confidential"] for p in response.json()["petitioners"]}
    assert shown == {"张*明": False, "李*芳": True}
    assert response.json()["confidential"] is True  # the case holds a confidential person
    assert leaked(response.content.decode()) == []


def test_a_person_row_tampered_back_to_ordinary_is_still_masked_by_her_links(jianan):
    j = jianan
    source = register_secret(j)
    target = walk(j, "in_progress")
    perform("merge", case=source, by=j.member("clerk"), into=target)
    Petitioner.objects.filter(pk=source.main_petitioner.pk).update(confidential=False)
    secret = Petitioner.objects.get(pk=source.main_petitioner.pk)
    assert_masked_for_units(j, target, secret)


def test_the_web_form_marks_one_person_confidential(jianan):
    from tests.web.test_flows import registration_data

    j = jianan
    data = registration_data(j, **{"p-1-name": SECRET_NAME, "p-1-phone": SECRET_PHONE,
                                   "p-1-confidential": "on"})
    response = signed_in(j.member("clerk")).post(reverse("web:register"), data)
    assert response.status_code == 302
    case = Case.objects.get()
    flags = {link.petitioner.name: link.confidential
             for link in case.petitioner_links.select_related("petitioner")}
    assert flags == {"张三明": False, SECRET_NAME: True}
    assert case.confidential
