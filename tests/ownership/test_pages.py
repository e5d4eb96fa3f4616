"""The ownership items on the case page and the office's page of village leaders."""

import pytest
from django.urls import reverse

from tests.conftest import register_in, sh
from tests.web.conftest import signed_in
from xinfang.ownership.models import OwnershipItem, VillageLeader

pytestmark = pytest.mark.django_db


def _third(j):
    for d in (3, 10, 17):
        case = register_in(j, received_at=sh(2026, 8, d, 9), at=sh(2026, 8, d, 10))
    return case


def test_the_case_page_lists_the_items_and_the_owner_updates_one(jurisdiction):
    j = jurisdiction("lihai")
    case = _third(j)
    approver = signed_in(j.member("approver"))
    page = approver.get(reverse("web:case", args=[case.pk])).content.decode()
    assert 'id="ownership"' in page and "包思想转化" in page and "未落实" in page
    item = case.ownership_items.get(label="包思想转化")
    url = reverse("web:ownership_item", args=[case.pk, item.pk])
    response = approver.post(url, {"status": "done", "note": "已上门做通思想工作"})
    assert response.status_code == 302 and response["Location"].endswith("#ownership")
    item.refresh_from_db()
    assert item.status == "done" and item.changes.count() == 1
    page = approver.get(reverse("web:case", args=[case.pk])).content.decode()
    assert "已上门做通思想工作" in page and "包案事项落实情况" in page  # the history entry


def test_done_without_a_note_says_which_field(jurisdiction):
    j = jurisdiction("lihai")
    case = _third(j)
    item = case.ownership_items.first()
    approver = signed_in(j.member("approver"))
    response = approver.post(reverse("web:ownership_item", args=[case.pk, item.pk]),
                             {"status": "done", "note": ""}, follow=True)
    assert "须写明落实情况" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "pending"


def test_a_unit_that_may_not_see_the_case_gets_not_found(jurisdiction):
    j = jurisdiction("lihai")
    case = _third(j)
    item = case.ownership_items.first()
    response = signed_in(j.member("township")).post(
        reverse("web:ownership_item", args=[case.pk, item.pk]), {"status": "doing", "note": "x"})
    assert response.status_code == 404
    assert OwnershipItem.objects.get(pk=item.pk).status == "pending"


def test_the_clerk_sees_the_items_without_the_update_form(jurisdiction):
    j = jurisdiction("lihai")
    case = _third(j)
    page = signed_in(j.member("clerk")).get(reverse("web:case", args=[case.pk])).content.decode()
    assert "包掌握情况" in page
    assert reverse("web:ownership_item", args=[case.pk, case.ownership_items.first().pk]) \
        not in page


def test_the_office_records_a_village_leader_on_its_page(jurisdiction):
    j = jurisdiction("datonghu")
    clerk = signed_in(j.member("clerk"))
    url = reverse("web:village_leaders")
    page = clerk.get(url).content.decode()
    assert "岗朱村" in page and "王建国" in page
    village = j.villages["岗朱村"]
    response = clerk.post(url, {"village": village.pk, "leader": j.member("approver").user.pk})
    assert response.status_code == 302
    link = VillageLeader.objects.get(village=village, ended_at=None)
    assert link.leader == j.member("approver").user
    assert "现任" in clerk.get(url).content.decode()
    # an empty leader ends the link
    clerk.post(url, {"village": village.pk, "leader": ""})
    assert not VillageLeader.objects.filter(village=village, ended_at=None).exists()


@pytest.mark.parametrize("who", ["township", "inspector", "bureau"])
def test_the_village_leader_page_is_the_offices(jurisdiction, who):
    j = jurisdiction("datonghu")
    response = signed_in(j.member(who)).get(reverse("web:village_leaders"))
    assert response.status_code == 403
