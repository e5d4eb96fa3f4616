"""工作移交 (乡镇撤并): the office moves all the open work of a township to its neighbour, each case
through ``reassign`` — one history entry each, what cannot move refused by number and why, what
moved kept, a retry moving nothing twice — after which the township can be switched off."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.cases.test_against_office import against
from tests.cases.test_engine_edges import assigned_case
from tests.conftest import register_in, sh
from tests.web.conftest import signed_in
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Assignment
from xinfang.cases.services import perform
from xinfang.cases.services.handover import unit_hand_over
from xinfang.web.admin_services import unit_open_work, unit_set_active

pytestmark = pytest.mark.django_db


def township_work(j):
    """将官池镇 leads two open cases, assists a third (led by 区民政局), and one of its cases has
    its letter drafted already (past handling: it moves at its stage)."""
    town, bureau = j.townships["将官池镇"], j.bureaus["区民政局"]
    first = assigned_case(j)
    second = perform("sign_for", case=assigned_case(j, matter="第二件"), by=j.member("township"),
                     at=sh(2026, 9, 15, 9))
    third = register_in(j, matter="第三件")
    perform("propose", case=third, by=j.member("clerk"), proposal="交", at=sh(2026, 9, 14, 11))
    perform("sign_off", case=third, by=j.member("approver"), at=sh(2026, 9, 14, 12))
    third = perform("assign", case=third, by=j.member("clerk"), lead=bureau, assisting=[town],
                    receiver_name="周", at=sh(2026, 9, 14, 13))
    drafted = perform("sign_for", case=assigned_case(j, matter="第四件"), by=j.member("township"),
                      at=sh(2026, 9, 15, 9))
    drafted = perform("record_finding", case=drafted, by=j.member("township"),
                      findings={1: ("true", "solved", "")}, at=sh(2026, 9, 15, 10))
    drafted = perform("draft_letter", case=drafted, by=j.member("township"), body="意见",
                      at=sh(2026, 9, 15, 11))
    return first, second, third, drafted


def against_the_receiver(j):
    """A case 将官池镇 leads that complains of 五女店镇: the receiver may not handle it."""
    case = register_in(j, matter="反映五女店镇", respondents=against(j.townships["五女店镇"]))
    perform("propose", case=case, by=j.member("clerk"), proposal="交将官池镇",
            at=sh(2026, 9, 14, 11))
    perform("sign_off", case=case, by=j.member("approver"), at=sh(2026, 9, 14, 12))
    return perform("assign", case=case, by=j.member("clerk"), lead=j.townships["将官池镇"],
                   receiver_name="陈晓东", at=sh(2026, 9, 14, 13))


def hand_over(j, by="clerk"):
    return unit_hand_over(by=j.member(by), old=j.townships["将官池镇"],
                          new=j.townships["五女店镇"], reason="乡镇撤并：将官池镇并入五女店镇",
                          receiver_name="马俊")


def test_a_merger_moves_each_open_case_and_names_the_one_that_cannot_move(jianan):
    first, second, third, drafted = township_work(jianan)
    against = against_the_receiver(jianan)
    town, wunv = jianan.townships["将官池镇"], jianan.townships["五女店镇"]
    out = hand_over(jianan)
    assert sorted(out.moved) == sorted([first.number, second.number, third.number,
                                        drafted.number])
    assert [number for number, _why in out.refused] == [against.number]
    assert "五女店镇" in out.refused[0][1]
    # one history entry each, through the transition
    for case in (first, second, third, drafted):
        assert case.events.filter(type="reassign").count() == 1
    # the drafted letter stays where it was, now 五女店镇's to carry on
    drafted.refresh_from_db()
    assert drafted.state == c.State.LETTER_DRAFTED
    # led cases now led by 五女店镇; the assisted one assisted by it, its lead untouched
    assert Assignment.objects.get(case=first, status="active").unit == wunv
    assert {(a.unit.name, a.role) for a in third.assignments.filter(status="active")} == {
        ("区民政局", "lead"), ("五女店镇", "assist")}
    # the township still holds the refused case: it is said so, with where the office moves it
    assert unit_open_work(town) == [
        "承办建安区未办结的信访件1件（主办1件、协办0件），受理机关可在信访台账中按承办单位"
        "“将官池镇”查看，须先办结，或由受理机关在“工作移交”页面（台账 › 工作移交，或 xinfang "
        "handover 命令）改派给其他单位"]


def test_a_retry_moves_nothing_twice_and_after_the_last_case_the_unit_switches_off(jianan):
    first, second, third, drafted = township_work(jianan)
    against = against_the_receiver(jianan)
    hand_over(jianan)
    # the refused case is given to the bureau on its own page, then the hand-over is run again
    perform("reassign", case=against, by=jianan.member("clerk"), lead=jianan.bureaus["区民政局"],
            reason="被反映单位不能办理", receiver_name="周", at=sh(2026, 9, 16, 9))
    out = hand_over(jianan, by="approver")
    assert (out.moved, out.refused) == ([], [])
    assert first.events.filter(type="reassign").count() == 1
    assert drafted.events.filter(type="reassign").count() == 1
    again = hand_over(jianan)
    assert (again.moved, again.refused, again.summary()) == ([], [], "已改派0件。")
    town = jianan.townships["将官池镇"]
    # a backlog line of its own with no case (imported) is still in its care: a hand-over moves
    # it too
    from xinfang.registers.models import BacklogCase

    line = BacklogCase.objects.create(
        jurisdiction=jianan.county, entry=BacklogCase.Entry.IMPORTED, person_name="马小红",
        reason="补助未兑现", designated_at=sh(2026, 9, 1, 9), responsible_unit=town)
    assert unit_open_work(town) != []
    again = hand_over(jianan)
    assert (again.moved, again.backlog, again.summary()) == (
        [], 1, "已改派0件，另移交积案台账1条。")
    line.refresh_from_db()
    assert line.responsible_unit == jianan.townships["五女店镇"]
    assert unit_open_work(town) == []
    # its villages and staff moved on (the administrators' own steps)
    type(town).objects.filter(parent=town).update(is_active=False)
    town.memberships.update(is_active=False)
    unit_set_active(by=jianan.member("sysadmin"), unit=town, active=False)
    town.refresh_from_db()
    assert not town.is_active


def test_a_hand_over_to_a_switched_off_unit_or_to_itself_is_refused(jianan):
    township_work(jianan)
    wunv = jianan.townships["五女店镇"]
    with pytest.raises(Refused, match="相同"):
        unit_hand_over(by=jianan.member("clerk"), old=wunv, new=wunv, reason="x",
                       receiver_name="x")
    type(wunv).objects.filter(pk=wunv.pk).update(is_active=False)
    wunv.refresh_from_db()
    with pytest.raises(Refused, match="五女店镇已停用"):
        hand_over(jianan)
    assert not Assignment.objects.filter(status=c.AssignmentStatus.TRANSFERRED).exists()


def test_only_the_petition_office_hands_over_its_cases(jianan):
    township_work(jianan)
    with pytest.raises(Refused, match="受理机关的经办人或分管领导"):
        hand_over(jianan, by="township")
    with pytest.raises(Refused, match="受理机关的经办人或分管领导"):
        hand_over(jianan, by="inspector")
    assert not Assignment.objects.filter(status=c.AssignmentStatus.TRANSFERRED).exists()


def test_the_command_moves_the_work_and_names_a_misspelt_unit(jianan):
    first, *_rest = township_work(jianan)
    against = against_the_receiver(jianan)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="没有名为“五女点镇”的单位。是否是：五女店镇"):
        call_command("handover", "--from", "将官池镇", "--to", "五女点镇", "--reason", "撤并",
                     "--receiver", "马俊", "--as", "clerk", stdout=out, stderr=err)
    call_command("handover", "--from", "将官池镇", "--dry-run", "--to", "五女店镇",
                 "--as", "clerk", stdout=out)
    assert first.number in out.getvalue()
    assert not first.events.filter(type="reassign").exists()
    with pytest.raises(CommandError, match="1件未能改派"):
        call_command("handover", "--from", "将官池镇", "--to", "五女店镇", "--reason", "撤并",
                     "--receiver", "马俊", "--as", "clerk", stdout=out, stderr=err)
    assert f"已改派 {first.number}：将官池镇 → 五女店镇" in out.getvalue()
    assert f"未改派 {against.number}" in err.getvalue()


def test_the_page_previews_moves_and_reports(jianan, client):
    first, second, third, drafted = township_work(jianan)
    against = against_the_receiver(jianan)
    town, wunv = jianan.townships["将官池镇"], jianan.townships["五女店镇"]
    clerk = signed_in(jianan.member("clerk"), client)
    page = clerk.get(reverse("web:handover"), {"old": town.pk}).content.decode()
    assert first.number in page and drafted.number in page
    r = clerk.post(reverse("web:handover"), {"old": town.pk, "new": wunv.pk,
                                             "reason": "乡镇撤并", "receiver_name": "马俊"})
    body = r.content.decode()
    assert r.status_code == 200 and "已改派4件，未能改派1件。" in body
    assert f"{against.number}：" in body
    # a tampered unit id is refused by the form, nothing moves
    r = clerk.post(reverse("web:handover"), {"old": town.pk, "new": 999999,
                                             "reason": "x", "receiver_name": "x"})
    assert r.status_code == 422
    # a handling unit's member is told who hands work over
    r = signed_in(jianan.member("township")).get(reverse("web:handover"))
    assert r.status_code == 403 and "经办人或分管领导" in r.content.decode()
