"""三员分立 for a new account's first password: the system administrator types it when creating
the account, which has no role then. When the security administrator grants its first business
role, the administrator's password stops working, and a leader (分管领导 or 主要领导) of the
unit the role is in collects a one-time password for its holder (密码转交, as after a reset).
Otherwise the administrator could sign in as the clerk before the clerk did."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.racing import race
from xinfang.audit.models import AuditEntry
from xinfang.org.models import Membership, User
from xinfang.security.models import PasswordHandover
from xinfang.web.admin_services import (
    AdminRefused,
    membership_grant,
    membership_revoke,
    user_create,
)
from xinfang.web.password_services import (
    password_change,
    password_handover_collect,
    password_reset_approve,
    password_reset_request,
)

from .conftest import signed_in

FIRST = "Chushi#Mima2026"  # the system administrator's choice
OWN = "Ziji#Mima2026b"


def one_time_of(response) -> str:
    return response.content.decode().split('class="one-time-password">', 1)[1].split("<", 1)[0]


def created(j, username="wangwu", full_name="王五") -> User:
    """An account made on the system administrator's page, with the password it typed."""
    response = signed_in(j.member("sysadmin")).post(reverse("web:admin_users"), {
        "n-username": username, "n-full_name": full_name,
        "n-password1": FIRST, "n-password2": FIRST})
    assert response.status_code == 302
    return User.objects.get(username=username)


def grant_page(j, user, unit, role):
    return signed_in(j.member("secadmin")).post(
        reverse("web:admin_roles_user", args=[user.pk]), {"g-unit": unit.pk, "g-role": role},
        follow=True)


def voids():
    return AuditEntry.objects.filter(detail__change="first_password_void").order_by("pk")


def signs_in(user, password) -> bool:
    return Client().login(username=user.username, password=password)


def test_a_first_business_role_voids_the_administrators_password_and_a_leader_collects(jianan):
    # given an account the system administrator made, its password typed by it
    user = created(jianan)
    office = jianan.member("clerk").unit
    assert user.password_by_admin and signs_in(user, FIRST)
    # when the security administrator grants it the office's clerk role
    response = grant_page(jianan, user, office, "clerk")
    # then the grant is made, and its message says the password went to the office's leader
    html = response.content.decode()
    assert response.status_code == 200
    assert Membership.objects.get(user=user).is_active
    assert "初始密码已作废" in html and "王建国" in html
    # and the administrator's password no longer signs in: nobody's does yet
    user.refresh_from_db()
    assert not signs_in(user, FIRST) and not user.has_usable_password()
    assert user.must_change_password and not user.password_by_admin
    handover = PasswordHandover.objects.get(user=user)
    assert handover.status == "pending" and handover.kind == "first"
    assert handover.reset_by == jianan.member("secadmin").user
    # the system administrator's page says who may collect it, and shows no password
    admin_page = signed_in(jianan.member("sysadmin")).get(
        reverse("web:admin_user", args=[user.pk])).content.decode()
    assert "待领取" in admin_page and "王建国" in admin_page and "首个业务角色" in admin_page
    # when the office's 分管领导 collects it on 密码转交
    leader = signed_in(jianan.member("approver"))
    listing = leader.get(reverse("web:password_handovers")).content.decode()
    assert "王五" in listing and "首次任职" in listing
    collected = leader.post(reverse("web:password_handover_collect", args=[handover.pk]))
    one_time = one_time_of(collected)
    # then the holder signs in with it only to change it
    client = Client()
    signed = client.post(reverse("web:login"), {"username": "wangwu", "password": one_time})
    assert signed["Location"] == reverse("web:account_password")
    client.post(reverse("web:account_password"),
                {"old_password": one_time, "password1": OWN, "password2": OWN})
    assert client.get(reverse("web:home")).status_code == 200
    # every step audited, no password in any entry
    entry = voids().get()
    assert entry.actor_id == jianan.member("secadmin").user_id
    assert entry.detail["handover"] == handover.pk
    assert entry.detail["collectors"] == [jianan.member("approver").user.username]
    assert entry.detail["unit"] == office.name and entry.detail["role"] == "clerk"
    text = str(list(AuditEntry.objects.values_list("detail", flat=True)))
    assert FIRST not in text and one_time not in text and OWN not in text


def test_a_unit_without_a_leader_still_gets_its_role_and_the_page_lists_the_account(jianan):
    # given an account for 将官池镇, which has no 分管领导 or 主要领导 in the system
    user = created(jianan)
    township = jianan.townships["将官池镇"]
    # when its handler's role is granted
    response = grant_page(jianan, user, township, "unit_handler")
    # then the grant goes through, saying the account has no usable password and the way out
    html = response.content.decode()
    assert response.status_code == 200 and Membership.objects.get(user=user).is_active
    assert "暂无可用密码" in html and "xinfang password reset wangwu" in html
    user.refresh_from_db()
    assert not signs_in(user, FIRST) and not user.has_usable_password()
    assert not PasswordHandover.objects.filter(user=user).exists()
    entry = voids().get()
    assert entry.detail["handover"] is None and entry.detail["collectors"] == []
    # and the security administrator's page names it among the accounts without a password
    roles = signed_in(jianan.member("secadmin")).get(reverse("web:admin_roles")).content.decode()
    listed = roles.split('id="no-password"', 1)[1].split("</section>", 1)[0]
    assert "wangwu" in listed and "将官池镇" in listed
    # until the operator's command line gives it one
    out = StringIO()
    call_command("password", "reset", "wangwu", stdout=out)
    assert signs_in(user, out.getvalue().strip().splitlines()[-1])
    roles = signed_in(jianan.member("secadmin")).get(reverse("web:admin_roles")).content.decode()
    assert 'id="no-password"' not in roles


def test_a_leaders_own_first_role_is_granted_with_nobody_to_collect(jianan):
    # given the new township head's account: nobody leads 将官池镇 in the system yet
    user = created(jianan, "zhenzhang", "马镇长")
    township = jianan.townships["将官池镇"]
    # when the security administrator makes it the township's 主要领导
    m = membership_grant(by=jianan.member("secadmin"), user=user, unit=township, role="chief")
    # then it holds the role; the account's password is void, and nobody collects one
    assert m.is_active and m.first_password == "none"
    assert not User.objects.get(pk=user.pk).has_usable_password()
    # the unit's next new account's password is collected by that leader, once it has one
    call_command("password", "reset", "zhenzhang", stdout=StringIO())
    other = created(jianan)
    again = membership_grant(by=jianan.member("secadmin"), user=other, unit=township,
                             role="unit_handler")
    handover = PasswordHandover.objects.get(user=other)
    assert again.first_password == handover
    assert [c.pk for c in handover.collectors()] == [m.pk]


def test_a_password_changed_before_any_role_is_voided_all_the_same(jianan):
    # given a new account, signed in to before it has any role and its password changed: that
    # could be the system administrator, who knows the first one, as well as its holder
    user = created(jianan)
    client = Client()
    signed = client.post(reverse("web:login"), {"username": "wangwu", "password": FIRST})
    assert signed["Location"] == reverse("web:account_password")
    client.post(reverse("web:account_password"),
                {"old_password": FIRST, "password1": OWN, "password2": OWN})
    assert signs_in(user, OWN)
    # when its first business role is granted
    m = membership_grant(by=jianan.member("secadmin"), user=user,
                         unit=jianan.member("clerk").unit, role="clerk")
    # then that password goes too, and the office's leader collects the one to use
    assert isinstance(m.first_password, PasswordHandover) and not signs_in(user, OWN)


def test_an_account_that_set_its_own_password_holding_a_role_is_untouched(jianan):
    # given a second auditor's account, whose holder changed the password as the auditor
    user = created(jianan, "shenji2", "审计二")
    secadmin = jianan.member("secadmin")
    auditor = membership_grant(by=secadmin, user=user, unit=jianan.county, role="auditor")
    password_change(user=user, old=FIRST, new=OWN)
    # when the role is withdrawn and a business role granted
    membership_revoke(by=secadmin, membership=auditor)
    m = membership_grant(by=secadmin, user=user, unit=jianan.member("clerk").unit, role="clerk")
    # then their password still works, and nothing waits for a leader
    assert m.first_password is None and signs_in(user, OWN)
    assert not PasswordHandover.objects.exists() and not voids().exists()


def test_a_second_role_and_a_retried_grant_open_nothing_more(jianan):
    user = created(jianan)
    office = jianan.member("clerk").unit
    secadmin = jianan.member("secadmin")
    membership_grant(by=secadmin, user=user, unit=office, role="clerk")
    # a retry of the same grant is refused; another role changes no password
    with pytest.raises(AdminRefused, match="已在"):
        membership_grant(by=secadmin, user=user, unit=office, role="clerk")
    second = membership_grant(by=secadmin, user=user, unit=office, role="inspector")
    assert second.first_password is None
    assert PasswordHandover.objects.filter(user=user).count() == 1 and voids().count() == 1


def test_an_administrator_role_keeps_the_administrators_path(jianan):
    # given an account made for a second auditor
    user = created(jianan, "shenji2", "审计二")
    # when the security administrator grants it the auditor's role
    m = membership_grant(by=jianan.member("secadmin"), user=user, unit=jianan.county,
                         role="auditor")
    # then its password is untouched: it changes it at first sign-in (and enrols TOTP), as before
    assert m.first_password is None and signs_in(user, FIRST)
    assert User.objects.get(pk=user.pk).password_by_admin
    assert not PasswordHandover.objects.exists()
    # and when that role is withdrawn and a business role granted, the password goes then
    membership_revoke(by=jianan.member("secadmin"), membership=m)
    clerk = membership_grant(by=jianan.member("secadmin"), user=user,
                             unit=jianan.member("clerk").unit, role="clerk")
    assert isinstance(clerk.first_password, PasswordHandover)
    assert not signs_in(user, FIRST)


def test_an_administrators_approved_reset_is_an_administrators_password_too(jianan):
    # given the auditor's reset, approved by the security administrator, who saw the password
    auditor = jianan.member("auditor")
    req = password_reset_request(by=jianan.member("sysadmin"), user=auditor.user, reason="遗忘")
    shown = password_reset_approve(by=jianan.member("secadmin"), req=req)
    assert User.objects.get(pk=auditor.user_id).password_by_admin
    # a leader's collected one-time password and the operator's are not an administrator's
    clerk = jianan.member("clerk").user
    call_command("password", "reset", clerk.username, stdout=StringIO())
    assert not User.objects.get(pk=clerk.pk).password_by_admin
    assert shown


def test_a_tampered_or_foreign_handover_is_not_collected(jianan):
    user = created(jianan)
    membership_grant(by=jianan.member("secadmin"), user=user, unit=jianan.member("clerk").unit,
                     role="clerk")
    handover = PasswordHandover.objects.get(user=user)
    # the county's chief leads 建安区, not the office: neither its page nor the service serves it
    chief = jianan.member("chief")
    response = signed_in(chief).post(reverse("web:password_handover_collect",
                                             args=[handover.pk]))
    assert response.status_code == 404
    with pytest.raises(AdminRefused):
        password_handover_collect(by=chief, handover=handover)
    assert PasswordHandover.objects.get(pk=handover.pk).status == "pending"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)")
def test_two_grants_at_once_open_one_handover(jianan):
    # given a new account, and two roles in the office granted at the same moment
    user = user_create(by=jianan.member("sysadmin"), username="wangwu", full_name="王五",
                       password=FIRST)
    office = jianan.member("clerk").unit

    def grant(role):
        return lambda: membership_grant(by=jianan.member("secadmin"),
                                        user=User.objects.get(pk=user.pk), unit=office, role=role)

    out = race(grant("clerk"), grant("inspector"))
    # then both roles are held; the second waited on the account and found the password gone
    assert out["second_waited"]
    assert isinstance(out["first"].first_password, PasswordHandover)
    assert out["second"].first_password is None
    assert Membership.objects.filter(user=user, is_active=True).count() == 2
    assert PasswordHandover.objects.filter(user=user).count() == 1 and voids().count() == 1
    assert not signs_in(User.objects.get(pk=user.pk), FIRST)


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_the_passwords_administrators_set_before_it(jianan):
    # given accounts as they stood before the marker: one still on its administrator's password,
    # one on a leader's collected one-time password, one on the operator's, one its own, one void
    from django.db.migrations.executor import MigrationExecutor

    from xinfang.web.password_services import user_password_reset

    fresh = user_create(by=jianan.member("sysadmin"), username="wangwu", full_name="王五",
                        password=FIRST)
    sysadmin = jianan.member("sysadmin")
    collected = user_password_reset(by=sysadmin, user=jianan.member("clerk").user)
    password_handover_collect(by=jianan.member("approver"), handover=collected)
    call_command("password", "reset", jianan.member("township").user.username, stdout=StringIO())
    user_password_reset(by=sysadmin, user=jianan.member("inspector").user)
    User.objects.update(password_by_admin=False)
    # when the migration runs
    before = [("org", "0006_unit_name_history")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then only the administrator's password is marked
    assert list(User.objects.filter(password_by_admin=True)) == [fresh]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)")
def test_a_password_change_racing_the_first_grant_is_refused(jianan):
    # given a new account whose first password is being changed (by whoever knows it) while the
    # security administrator grants its first business role
    user = user_create(by=jianan.member("sysadmin"), username="wangwu", full_name="王五",
                       password=FIRST)
    office = jianan.member("clerk").unit
    out = race(
        lambda: membership_grant(by=jianan.member("secadmin"), user=User.objects.get(pk=user.pk),
                                 unit=office, role="clerk"),
        lambda: password_change(user=User.objects.get(pk=user.pk), old=FIRST, new=OWN))
    # then the change waited for the grant and was refused: no password typed before the role
    # survives it, and the leader's handover is the way in
    assert out["second_waited"] and isinstance(out["second"], AdminRefused)
    assert isinstance(out["first"].first_password, PasswordHandover)
    assert not signs_in(User.objects.get(pk=user.pk), OWN)
    assert not User.objects.get(pk=user.pk).has_usable_password()
