"""三员分立 for an ordinary account's password reset: the system administrator resets, but the
one-time password is collected (领取) once by a leader (分管领导 or 主要领导) of the account's own
unit, who hands it to the clerk. The administrator sees only that it waits, and for whom."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.racing import race
from xinfang.audit.models import AuditEntry
from xinfang.org.models import Membership, User
from xinfang.security.models import PasswordHandover
from xinfang.web.admin_services import AdminRefused, membership_revoke, user_set_active
from xinfang.web.password_services import password_handover_collect, user_password_reset

from .conftest import PASSWORD, signed_in

NEW = "Xin#Mima2026a"


def one_time_of(response) -> str:
    return response.content.decode().split('class="one-time-password">', 1)[1].split("<", 1)[0]


def collect_url(h) -> str:
    return reverse("web:password_handover_collect", args=[h.pk])


def reset(j, key="clerk") -> PasswordHandover:
    return user_password_reset(by=j.member("sysadmin"), user=j.member(key).user)


def changes(change: str):
    return AuditEntry.objects.filter(detail__change=change).order_by("pk")


def test_the_administrator_resets_a_clerk_and_sees_only_who_may_collect(jianan):
    # given the system administrator on the clerk's account page
    admin = signed_in(jianan.member("sysadmin"))
    clerk = jianan.member("clerk").user
    # when it resets the clerk's password
    response = admin.post(reverse("web:admin_user", args=[clerk.pk]), follow=True)
    # then no password is shown to it: the page says the reset waits for the clerk's leader
    html = response.content.decode()
    assert response.status_code == 200 and "one-time-password" not in html
    assert "待领取" in html and "王建国" in html  # the office's 分管领导, by name
    handover = PasswordHandover.objects.get(user=clerk)
    assert handover.status == "pending" and handover.reset_by == jianan.member("sysadmin").user
    # and the old password is gone (the clerk's sessions end), the new one not yet made
    clerk.refresh_from_db()
    assert not clerk.has_usable_password() and clerk.must_change_password
    assert not Client().login(username=clerk.username, password=PASSWORD)
    entry = changes("password_reset").get()
    assert entry.actor_id == jianan.member("sysadmin").user_id
    assert entry.detail["collectors"] == [jianan.member("approver").user.username]
    assert "collect_until" in entry.detail


def test_the_leader_collects_once_and_the_clerk_must_change_it(jianan, settings):
    settings.XINFANG_TOTP_REQUIRED_ROLES = []
    handover = reset(jianan)
    # given the office's approver, whose navigation leads to the handovers
    leader = signed_in(jianan.member("approver"))
    assert reverse("web:password_handovers") in leader.get(reverse("web:home")).content.decode()
    listing = leader.get(reverse("web:password_handovers")).content.decode()
    assert "李文静" in listing and collect_url(handover) in listing
    # when the leader collects it
    response = leader.post(collect_url(handover))
    # then the one-time password is shown this once, never cached
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    one_time = one_time_of(response)
    assert one_time not in leader.get(reverse("web:password_handovers")).content.decode()
    # and the clerk signs in with it only to change it
    clerk = User.objects.get(pk=jianan.member("clerk").user_id)
    assert clerk.check_password(one_time) and clerk.must_change_password
    client = Client()
    signed = client.post(reverse("web:login"), {"username": clerk.username, "password": one_time})
    assert signed["Location"] == reverse("web:account_password")
    assert client.get(reverse("web:home"))["Location"] == reverse("web:account_password")
    client.post(reverse("web:account_password"),
                {"old_password": one_time, "password1": NEW, "password2": NEW})
    assert client.get(reverse("web:home")).status_code == 200
    # a second collection (a reload, another tab) is refused and changes nothing
    again = leader.post(collect_url(handover))
    assert again.status_code == 409 and "已领取" in again.content.decode()
    assert "one-time-password" not in again.content.decode()
    assert User.objects.get(pk=clerk.pk).check_password(NEW)
    # every step audited, the password in none
    entry = changes("password_collect").get()
    assert entry.actor_id == jianan.member("approver").user_id
    assert entry.detail["username"] == clerk.username
    assert all(one_time not in str(e.detail) for e in AuditEntry.objects.all())
    # the administrator's page now says who collected it, and still shows no password
    html = signed_in(jianan.member("sysadmin")).get(
        reverse("web:admin_user", args=[clerk.pk])).content.decode()
    assert "王建国" in html and "已领取" in html and one_time not in html


def test_no_leader_in_the_accounts_unit_refuses_the_reset_saying_what_to_do(jianan):
    # given a township handler: 将官池镇 has no 分管领导 or 主要领导 in the system
    handler = jianan.member("township").user
    before = handler.password
    # when the system administrator resets it
    response = signed_in(jianan.member("sysadmin")).post(
        reverse("web:admin_user", args=[handler.pk]))
    # then it is refused, naming the unit and the ways out, and nothing is changed
    html = response.content.decode()
    assert response.status_code == 400
    assert "将官池镇" in html and "分管领导或主要领导" in html and "xinfang password reset" in html
    handler.refresh_from_db()
    assert handler.password == before and not handler.must_change_password
    assert not PasswordHandover.objects.exists() and not changes("password_reset").exists()


def test_the_account_itself_is_not_its_own_collector(jianan):
    # the office's approver is the office's only leader: nobody else could collect its reset
    with pytest.raises(AdminRefused, match="分管领导或主要领导"):
        reset(jianan, "approver")
    # and a leader who is also the office's clerk is not offered its own reset either
    approver = jianan.member("approver")
    Membership.objects.create(user=approver.user, unit=approver.unit, role="clerk")
    with pytest.raises(AdminRefused):
        reset(jianan, "approver")


@pytest.mark.parametrize("who", ["chief", "inspector", "clerk", "sysadmin", "secadmin"])
def test_nobody_but_a_leader_of_the_accounts_unit_collects(jianan, who):
    # given the clerk's reset; the county's chief sits in another unit (建安区, not the office)
    handover = reset(jianan)
    with pytest.raises(AdminRefused):
        password_handover_collect(by=jianan.member(who), handover=handover)
    response = signed_in(jianan.member(who)).post(collect_url(handover))
    if who == "clerk":  # the account reset: its sessions ended with its old password
        assert response["Location"].startswith(reverse("web:login"))
    else:
        assert response.status_code in (403, 404)
    handover.refresh_from_db()
    assert handover.status == "pending"
    assert not User.objects.get(pk=jianan.member("clerk").user_id).has_usable_password()


def test_a_chief_of_the_accounts_own_unit_collects_too(jianan):
    clerk = jianan.member("clerk")
    chief_user = User.objects.create_user("zhuren", password=PASSWORD, full_name="钱主任")
    chief = Membership.objects.create(user=chief_user, unit=clerk.unit, role="chief")
    handover = reset(jianan)
    assert set(handover.collectors()) == {jianan.member("approver"), chief}
    one_time = password_handover_collect(by=chief, handover=handover)
    assert User.objects.get(pk=clerk.user_id).check_password(one_time)


def test_an_uncollected_one_time_password_expires_and_a_new_reset_replaces_it(jianan, settings):
    settings.XINFANG_PASSWORD_COLLECT_DAYS = 3
    handover = reset(jianan)
    assert handover.collect_until - handover.reset_at == timedelta(days=3)
    # a second reset while it waits is refused, saying who may collect it
    with pytest.raises(AdminRefused, match="王建国"):
        reset(jianan)
    # when the limit passes uncollected
    PasswordHandover.objects.filter(pk=handover.pk).update(
        collect_until=timezone.now() - timedelta(seconds=1))
    response = signed_in(jianan.member("approver")).post(collect_url(handover))
    # then collecting it is refused, telling the leader to ask for a new reset
    assert response.status_code == 409 and "逾期" in response.content.decode()
    assert not User.objects.get(pk=jianan.member("clerk").user_id).has_usable_password()
    # and the administrator may reset again: the old one is kept, marked expired
    again = reset(jianan)
    handover.refresh_from_db()
    assert handover.status == "expired" and again.status == "pending"
    assert PasswordHandover.objects.count() == 2


def _switch_off(j):
    user_set_active(by=j.member("sysadmin"), user=j.member("clerk").user, active=False)


def _withdraw_leader(j):
    membership_revoke(by=j.member("secadmin"), membership=j.member("approver"))


def _withdraw_clerks_role(j):
    membership_revoke(by=j.member("secadmin"), membership=j.member("clerk"))


@pytest.mark.parametrize("before", [_switch_off, _withdraw_leader, _withdraw_clerks_role])
def test_a_change_before_collection_refuses_it(jianan, before):
    handover = reset(jianan)
    before(jianan)
    leader = Membership.objects.get(pk=jianan.member("approver").pk)
    with pytest.raises(AdminRefused):
        password_handover_collect(by=leader, handover=handover)
    handover.refresh_from_db()
    assert handover.status == "pending"
    assert not User.objects.get(pk=jianan.member("clerk").user_id).has_usable_password()


def test_an_administrators_account_keeps_the_two_administrator_procedure(jianan):
    with pytest.raises(AdminRefused, match="另一名管理员"):
        reset(jianan, "auditor")
    assert not PasswordHandover.objects.exists()


def test_the_operators_command_line_resets_and_prints(jianan):
    # given a reset waiting for a leader
    handover = reset(jianan)
    clerk = jianan.member("clerk").user
    # when the server's operator resets the clerk on the command line
    out = StringIO()
    call_command("password", "reset", clerk.username, stdout=out)
    one_time = out.getvalue().strip().splitlines()[-1]
    # then the operator is shown the one-time password, to be changed at first sign-in
    clerk.refresh_from_db()
    assert clerk.check_password(one_time) and clerk.must_change_password
    handover.refresh_from_db()
    assert handover.status == "cancelled"  # nothing left to collect
    entry = changes("password_reset").last()
    assert entry.actor_name.startswith("命令行") and one_time not in str(entry.detail)
    # an administrator's account is not reset there, nor a name nobody holds
    with pytest.raises(CommandError, match="另一名管理员"):
        call_command("password", "reset", jianan.member("auditor").user.username,
                     stdout=StringIO())
    with pytest.raises(CommandError, match="没有用户名"):
        call_command("password", "reset", "nobody-here", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)")
def test_two_tabs_collecting_at_once_give_one_password(jianan):
    # given the clerk's reset, open in the leader's two tabs
    handover = reset(jianan)
    leader = jianan.member("approver")

    def collect():
        return password_handover_collect(by=Membership.objects.get(pk=leader.pk),
                                         handover=PasswordHandover.objects.get(pk=handover.pk))

    # when both send 领取 at once
    out = race(collect, collect)
    # then the second waited and was refused; the password set is the first one's
    assert out["second_waited"]
    assert isinstance(out["second"], AdminRefused) and "已领取" in str(out["second"])
    assert User.objects.get(pk=jianan.member("clerk").user_id).check_password(out["first"])
    assert changes("password_collect").count() == 1
