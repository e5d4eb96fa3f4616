"""Leader ownership through the services: the owner the profile chooses, the items tracked one
by one with their history, and who may follow them up. Named after the seed and section."""

import pytest

from tests.conftest import register_in, sh
from xinfang.cases.errors import Refused
from xinfang.cases.services import sweep
from xinfang.org.choices import Role
from xinfang.org.models import Membership, User
from xinfang.ownership.models import OwnershipItem, OwnershipItemChange, VillageLeader
from xinfang.ownership.services import (
    ownership_item_update,
    village_leader_end,
    village_leader_set,
)
from xinfang.registers.models import BacklogCase

pytestmark = pytest.mark.django_db

DATONGHU_ITEMS = ["一个案件", "一名领导", "一套班子", "一个方案", "一抓到底"]
LIHAI_ITEMS = ["包掌握情况", "包思想转化", "包解决化解", "包承诺息访", "包教育稳控"]


def _second_approver(j, name="黄副区长"):
    user = User.objects.create(username=f"{j.county.name}-leader2", full_name=name)
    return Membership.objects.create(user=user, unit=j.office, role=Role.APPROVER)


# --- seed 000 §十一(四): the district leader linked to the village owns the hard case -----------


def test_000_s11_4_repeat_petition_is_owned_by_the_leader_linked_to_the_village(jurisdiction):
    # given 大通湖区 (seed 000) whose office linked 岗朱村 to a district leader
    j = jurisdiction("datonghu")
    leader = _second_approver(j)
    village_leader_set(village=j.villages["岗朱村"], leader=leader.user, by=j.member("clerk"),
                       at=sh(2026, 8, 1, 9))
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    # when the same person comes back on the matter
    case = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9))
    # then the linked leader owns it, with the five items of the seed, each still to do
    case.refresh_from_db()
    assert case.leader_owner == leader.user
    items = list(case.ownership_items.order_by("position"))
    assert [i.label for i in items] == DATONGHU_ITEMS
    assert {i.status for i in items} == {OwnershipItem.Status.PENDING}
    raised = case.events.get(type="warning_raised")
    assert raised.payload["owner"] == "黄副区长" and raised.payload["owner_by"] == "联点村领导"
    assert case.alerts.filter(kind="warning", clock=None, role="approver").exists()


def test_000_s11_4_without_a_village_link_the_office_names_the_owner(jurisdiction):
    j = jurisdiction("datonghu")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    case = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9))
    case.refresh_from_db()
    assert case.leader_owner is None  # nobody chosen: the approver is asked to name one
    assert "领导包案" in case.alerts.get(kind="warning", clock=None).message
    assert case.ownership_items.count() == 5  # the items wait for the owner


def test_000_s11_4_key_case_is_owned_by_the_one_chief(jurisdiction):
    # "涉及到重点信访件的由区委书记或区长牵头": the chief, the one holder of the role
    j = jurisdiction("datonghu")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    case = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9), key_case=True)
    case.refresh_from_db()
    assert case.leader_owner == j.member("chief").user
    assert case.events.get(type="warning_raised").payload["owner_by"] == "主要领导"


def test_000_s11_4_first_petition_has_no_ownership(jurisdiction):
    j = jurisdiction("datonghu")
    village_leader_set(village=j.villages["岗朱村"], leader=j.member("approver").user,
                       by=j.member("clerk"), at=sh(2026, 8, 1, 9))
    case = register_in(j)
    case.refresh_from_db()
    assert case.leader_owner is None and not case.ownership_items.exists()


def test_000_s11_4_a_new_link_ends_the_old_one_and_both_are_kept(jurisdiction):
    j = jurisdiction("datonghu")
    village = j.villages["岗朱村"]
    other = _second_approver(j)
    village_leader_set(village=village, leader=j.member("approver").user, by=j.member("clerk"),
                       at=sh(2026, 8, 1, 9))
    village_leader_set(village=village, leader=other.user, by=j.member("clerk"),
                       at=sh(2026, 8, 2, 9))
    links = list(VillageLeader.objects.filter(village=village).order_by("recorded_at"))
    assert [x.leader for x in links] == [j.member("approver").user, other.user]
    assert links[0].ended_at == sh(2026, 8, 2, 9) and links[1].ended_at is None
    assert village_leader_end(village=village, by=j.member("approver"), at=sh(2026, 8, 3, 9))
    assert not VillageLeader.objects.filter(village=village, ended_at=None).exists()


@pytest.mark.parametrize("who", ["township", "bureau", "inspector", "city_clerk"])
def test_000_s11_4_only_the_office_links_villages(jurisdiction, who):
    j = jurisdiction("datonghu")
    with pytest.raises(Refused, match="信访办"):
        village_leader_set(village=j.villages["岗朱村"], leader=j.member("approver").user,
                           by=j.member(who), at=sh(2026, 8, 1, 9))


def test_000_s11_4_a_leader_must_hold_a_leaders_role_in_the_jurisdiction(jurisdiction):
    j = jurisdiction("datonghu")
    with pytest.raises(Refused, match="没有领导职务") as e:
        village_leader_set(village=j.villages["岗朱村"], leader=j.member("township").user,
                           by=j.member("clerk"), at=sh(2026, 8, 1, 9))
    assert e.value.field == "leader"
    with pytest.raises(Refused, match="不是村"):
        village_leader_set(village=j.townships["将官池镇"], leader=j.member("approver").user,
                           by=j.member("clerk"), at=sh(2026, 8, 1, 9))


# --- seed 004 §二(四): 五包责任制, tracked item by item ---------------------------------------


def _lihai_third_visit(j):
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    register_in(j, at=sh(2026, 8, 20, 10), received_at=sh(2026, 8, 20, 9))
    case = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9))
    case.refresh_from_db()
    return case


def test_004_s2_4_third_repeat_opens_the_five_ownerships(jurisdiction):
    j = jurisdiction("lihai")
    case = _lihai_third_visit(j)
    assert [i.label for i in case.ownership_items.order_by("position")] == LIHAI_ITEMS
    # 004 §二(四) "分管领导（或片长）牵头领办": no village link, so the one approver owns it
    assert case.leader_owner == j.member("approver").user
    issued = case.events.get(type="warning_issued")
    assert issued.payload["owner_by"] == "分管领导"
    assert issued.payload["ownership_items"] == LIHAI_ITEMS


def test_004_s2_4_the_area_head_linked_to_the_village_comes_before_the_approver(jurisdiction):
    j = jurisdiction("lihai")
    village_leader_set(village=j.villages["岗朱村"], leader=j.member("township_head").user,
                       by=j.member("clerk"), at=sh(2026, 8, 1, 9))
    case = _lihai_third_visit(j)
    assert case.leader_owner == j.member("township_head").user


def test_004_s2_4_two_approvers_and_no_link_leave_the_choice_to_the_office(jurisdiction):
    j = jurisdiction("lihai")
    _second_approver(j)
    case = _lihai_third_visit(j)
    assert case.leader_owner is None
    assert case.ownership_items.count() == 5


def test_004_s2_4_second_repeat_opens_nothing(jurisdiction):
    j = jurisdiction("lihai")
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    second = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9))
    assert not second.ownership_items.exists()


def test_004_s2_4_the_owner_follows_up_each_item_and_every_change_is_kept(jurisdiction):
    j = jurisdiction("lihai")
    case = _lihai_third_visit(j)
    owner = j.member("approver")
    item = case.ownership_items.get(label="包掌握情况")
    ownership_item_update(item=item, status="doing", note="已约访信访人", by=owner,
                          at=sh(2026, 9, 22, 9))
    ownership_item_update(item=item, status="done", note="已掌握诉求和家庭情况", by=owner,
                          at=sh(2026, 9, 24, 9))
    item.refresh_from_db()
    assert (item.status, item.note, item.updated_by, item.updated_at) == (
        "done", "已掌握诉求和家庭情况", owner.user, sh(2026, 9, 24, 9))
    changes = list(OwnershipItemChange.objects.filter(item=item).order_by("at"))
    assert [(x.status, x.note) for x in changes] == [("doing", "已约访信访人"),
                                                     ("done", "已掌握诉求和家庭情况")]
    events = case.events.filter(type="ownership_item_updated").order_by("seq")
    assert [e.payload["status"] for e in events] == ["落实中", "已落实"]
    assert events[0].payload["item"] == "包掌握情况"


def test_004_s2_4_done_needs_a_note(jurisdiction):
    j = jurisdiction("lihai")
    case = _lihai_third_visit(j)
    item = case.ownership_items.first()
    with pytest.raises(Refused) as e:
        ownership_item_update(item=item, status="done", note=" ", by=j.member("approver"),
                              at=sh(2026, 9, 22, 9))
    assert e.value.field == "note"


@pytest.mark.parametrize("who", ["clerk", "township", "inspector", "bureau"])
def test_004_s2_4_only_the_owner_or_the_offices_leaders_follow_up(jurisdiction, who):
    j = jurisdiction("lihai")
    case = _lihai_third_visit(j)
    with pytest.raises(Refused):
        ownership_item_update(item=case.ownership_items.first(), status="doing", note="x",
                              by=j.member(who), at=sh(2026, 9, 22, 9))


def test_004_s2_4_the_chief_of_the_office_may_follow_up_too(jurisdiction):
    j = jurisdiction("lihai")
    case = _lihai_third_visit(j)
    item = ownership_item_update(item=case.ownership_items.first(), status="doing", note="督办",
                                 by=j.member("chief"), at=sh(2026, 9, 22, 9))
    assert item.updated_by == j.member("chief").user


def test_ownership_is_opened_once_even_when_the_sweep_runs_again(jurisdiction):
    j = jurisdiction("lihai")
    case = _lihai_third_visit(j)
    sweep(at=sh(2026, 9, 23))
    sweep(at=sh(2026, 9, 24))
    assert case.ownership_items.count() == 5


def test_000_s11_4_ownership_at_the_sweep_when_a_case_becomes_a_repeat_later(jurisdiction):
    # A case linked as a repeat after registration (the clerk links it by hand): the sweep
    # applies the rule, opens the items and names the linked leader.
    from django.db.models import F

    from xinfang.cases.models import Case

    j = jurisdiction("datonghu")
    village_leader_set(village=j.villages["岗朱村"], leader=j.member("approver").user,
                       by=j.member("clerk"), at=sh(2026, 8, 1, 9))
    first = register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    Case.objects.filter(pk=first.pk).update(repeat_count=1, version=F("version") + 1)
    sweep(at=sh(2026, 9, 2))
    first.refresh_from_db()
    assert first.leader_owner == j.member("approver").user
    assert first.ownership_items.count() == 5
    assert first.events.filter(type="warning_raised").count() == 1


def test_000_s11_4_a_leader_owned_repeat_enters_the_backlog_register(jurisdiction):
    # jianan keeps the backlog register (seed 001 二(三)); its rule owns by hand, so the
    # register entry follows the owner the office names. Here datonghu has no register: none.
    j = jurisdiction("datonghu")
    village_leader_set(village=j.villages["岗朱村"], leader=j.member("approver").user,
                       by=j.member("clerk"), at=sh(2026, 8, 1, 9))
    register_in(j, at=sh(2026, 8, 3, 10), received_at=sh(2026, 8, 3, 9))
    case = register_in(j, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9))
    assert not BacklogCase.objects.filter(case=case).exists()
