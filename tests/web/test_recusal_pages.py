"""Recusal from the web pages (issue 8): before, only the command line and the service could
declare one, and the audit entry named the person concerned as if they had declared it
themselves. Now the office declares and withdraws recusals on a page, and each audit entry names
the operator as well as the person concerned."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.api.world import walk
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.cases.selectors import cases_for
from xinfang.org.choices import Role
from xinfang.org.models import Membership, User
from xinfang.security.models import Recusal
from xinfang.security.services import recusal_declare, recusal_withdraw

from .conftest import signed_in

pytestmark = pytest.mark.django_db

URL = "/recusals/"


def declare(client, **data):
    return client.post(URL, {"target": "case", "case_number": "", "matter_words": "", **data})


def last_audit(change: str) -> AuditEntry:
    return AuditEntry.objects.filter(detail__change=change).latest("id")


def test_a_clerk_declares_their_own_recusal_from_the_page_and_loses_sight_of_the_case(jianan):
    # given
    case = walk(jianan, "registered")
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    assert client.get(URL).status_code == 200
    # when
    response = declare(client, user=clerk.user_id, case_number=case.number, reason="同村邻居")
    # then
    assert response.status_code == 302, response.content.decode()
    r = Recusal.objects.get()
    assert (r.user, r.case, r.declared_by, r.is_active) == (clerk.user, case, clerk.user, True)
    entry = last_audit("recusal_declared")
    assert entry.actor_id == clerk.user_id
    assert entry.detail["user"] == "clerk" and entry.detail["declared_by"] == "clerk"
    assert entry.detail["case"] == case.number
    assert not cases_for(clerk).filter(pk=case.pk).exists()
    assert client.get(reverse("web:case", args=[case.pk])).status_code == 404
    page = client.get(URL).content.decode()
    assert f"信访件 {case.number}" in page and "同村邻居" in page


def test_the_approver_declares_for_a_township_handler_and_the_audit_names_the_operator(jianan):
    # given
    case = walk(jianan, "assigned")
    approver, township = jianan.member("approver"), jianan.member("township")
    # when
    response = declare(signed_in(approver), user=township.user_id, target="matter",
                       matter_words="危房改造", reason="本人负责该村危房改造验收")
    # then
    assert response.status_code == 302, response.content.decode()
    r = Recusal.objects.get()
    assert r.user == township.user and r.declared_by == approver.user
    entry = last_audit("recusal_declared")
    assert entry.actor_id == approver.user_id and entry.actor_name == "王建国"
    assert entry.detail["user"] == "township" and entry.detail["declared_by"] == "approver"
    assert entry.detail["operator_role"] == "approver"
    assert not cases_for(township).filter(pk=case.pk).exists()


def test_a_petitioner_recusal_covers_every_case_of_that_person(jianan):
    case = walk(jianan, "registered")
    later = walk(jianan, "registered", matter="反映低保未发放")  # same ID number: same person
    clerk = jianan.member("clerk")
    response = declare(signed_in(jianan.member("chief")), user=clerk.user_id,
                       target="petitioner", case_number=case.number, reason="信访人系本人表兄")
    assert response.status_code == 302, response.content.decode()
    assert Recusal.objects.get().petitioner == case.main_petitioner
    assert not cases_for(clerk).filter(pk__in=[case.pk, later.pk]).exists()


def test_a_clerk_cannot_declare_for_someone_else(jianan):
    case = walk(jianan, "registered")
    response = declare(signed_in(jianan.member("clerk")), user=jianan.member("approver").user_id,
                       case_number=case.number, reason="报复")
    assert response.status_code == 400
    assert "user" in response.context["form"].errors
    assert not Recusal.objects.exists()
    # nor through the service, whatever the page offers
    with pytest.raises(Refused) as refused:
        recusal_declare(user=jianan.member("approver").user, case=case, reason="报复",
                        by=jianan.member("clerk"))
    assert refused.value.field == "user"


def test_a_leader_of_another_jurisdiction_cannot_declare_for_our_staff(jianan, jurisdiction):
    other = jurisdiction("lihai")
    with pytest.raises(Refused):
        recusal_declare(user=jianan.member("clerk").user, matter_words="危房改造", reason="x",
                        by=other.member("approver"))
    assert not Recusal.objects.exists()


@pytest.mark.parametrize(("data", "field"), [
    ({"case_number": ""}, "case_number"),
    ({"case_number": "建安信〔2099〕9999号"}, "case_number"),
    ({"target": "matter", "matter_words": "危"}, "matter_words"),
    ({"reason": ""}, "reason"),
], ids=["no-number", "unknown-number", "one-character", "no-reason"])
def test_bad_input_is_marked_at_its_field_and_nothing_is_recorded(jianan, data, field):
    walk(jianan, "registered")
    clerk = jianan.member("clerk")
    response = declare(signed_in(clerk), **{"user": clerk.user_id, "reason": "亲属", **data})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Recusal.objects.exists()


def test_a_case_outside_the_operators_sight_cannot_be_named(jianan):
    case = walk(jianan, "registered")  # not assigned: the bureau does not see it
    bureau = jianan.member("bureau")
    response = declare(signed_in(bureau), user=bureau.user_id, case_number=case.number,
                       reason="亲属")
    assert response.status_code == 400
    assert "无权查看" in response.context["form"].errors["case_number"][0]


def test_the_approver_withdraws_a_recusal_and_the_audit_names_who_withdrew_it(jianan):
    # given
    case = walk(jianan, "registered")
    clerk, approver = jianan.member("clerk"), jianan.member("approver")
    r = recusal_declare(user=clerk.user, case=case, reason="同村邻居", by=clerk)
    url = reverse("web:recusal_withdraw", args=[r.pk])
    # the clerk may not lift their own recusal
    response = signed_in(clerk).post(url, {"reason": "我想办"})
    assert response.status_code == 403
    r.refresh_from_db()
    assert r.is_active
    # when
    response = signed_in(approver).post(url, {"reason": "已调离该村"})
    # then
    assert response.status_code == 302
    r.refresh_from_db()
    assert not r.is_active and r.withdrawn_by == approver.user
    assert r.withdraw_reason == "已调离该村" and r.withdrawn_at is not None
    entry = last_audit("recusal_withdrawn")
    assert entry.actor_id == approver.user_id
    assert entry.detail["user"] == "clerk" and entry.detail["withdrawn_by"] == "approver"
    assert cases_for(clerk).filter(pk=case.pk).exists()
    # a repeated withdrawal (a double click) is refused, and the record stays as it was
    again = signed_in(approver).post(url, {"reason": "再撤一次"})
    assert again.status_code == 403
    assert AuditEntry.objects.filter(detail__change="recusal_withdrawn").count() == 1


def test_a_leader_cannot_withdraw_their_own_recusal(jianan):
    approver = jianan.member("approver")
    r = recusal_declare(user=approver.user, matter_words="危房改造", reason="亲属", by=approver)
    with pytest.raises(Refused, match="不能撤回本人"):
        recusal_withdraw(recusal=r, by=approver, reason="x")
    response = signed_in(approver).post(reverse("web:recusal_withdraw", args=[r.pk]),
                                        {"reason": "x"})
    assert response.status_code == 403


def test_others_recusals_are_neither_listed_nor_withdrawable_by_a_clerk(jianan):
    township = jianan.member("township")
    r = recusal_declare(user=township.user, matter_words="危房改造", reason="亲属", by=township)
    client = signed_in(jianan.member("clerk"))
    assert "危房改造" not in client.get(URL).content.decode()
    response = client.post(reverse("web:recusal_withdraw", args=[r.pk]), {"reason": "x"})
    assert response.status_code == 404


def test_the_administrators_have_no_recusal_page(jianan):
    for key in ("sysadmin", "secadmin", "auditor"):
        assert signed_in(jianan.member(key)).get(URL).status_code == 403


def test_the_command_line_names_its_operator_in_the_audit(jianan):
    case = walk(jianan, "registered")
    call_command("recusal", "declare", "clerk", "--case", case.number, "--reason", "同村邻居")
    entry = last_audit("recusal_declared")
    assert entry.actor_id is None and entry.actor_name.startswith("命令行")
    assert entry.detail["user"] == "clerk" and entry.detail["declared_by"].startswith("命令行")
    r = Recusal.objects.get()
    call_command("recusal", "withdraw", str(r.pk), "--reason", "已调离")
    entry = last_audit("recusal_withdrawn")
    assert entry.actor_name.startswith("命令行") and entry.detail["withdrawn_by"]


def test_the_leaders_choice_of_people_is_the_jurisdictions_staff_only(jianan, jurisdiction):
    other = jurisdiction("lihai")
    outsider = other.member("clerk").user
    stranger = User.objects.create(username="stranger")
    Membership.objects.create(user=stranger, unit=other.county, role=Role.UNIT_HANDLER)
    page = signed_in(jianan.member("approver")).get(URL)
    users = set(page.context["form"].fields["user"].queryset)
    assert jianan.member("township").user in users and jianan.member("clerk").user in users
    assert outsider not in users and stranger not in users
    assert jianan.member("sysadmin").user not in users


def test_the_nav_offers_the_recusal_page_to_staff(jianan):
    page = signed_in(jianan.member("township")).get(reverse("web:home")).content.decode()
    assert f'href="{URL}"' in page
