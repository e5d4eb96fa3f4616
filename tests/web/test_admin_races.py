"""Two administrators at once on PostgreSQL: what one checks before writing still holds when the
other's write commits."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import register_in
from tests.racing import race
from xinfang.cases.errors import Refused
from xinfang.cases.services import perform
from xinfang.org.models import Membership, Unit, User
from xinfang.web.admin_services import (
    AdminRefused,
    Revoked,
    membership_grant,
    membership_revoke,
    unit_create,
    unit_set_active,
    user_set_active,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)"),
]


def test_two_grants_at_once_cannot_give_one_account_an_admin_and_a_business_role(jianan):
    # given an account without a role, and two security administrators' requests for it
    j = jianan
    user = User.objects.create_user("xiaozhao", password="Qiang#Mima2026", full_name="小赵")
    secadmin = j.member("secadmin")
    # when one grants it the system administrator's role while the other grants it a clerk's
    out = race(
        lambda: membership_grant(by=secadmin, user=user, unit=j.county, role="sysadmin"),
        lambda: membership_grant(by=secadmin, user=user, unit=j.townships["五女店镇"],
                                 role="unit_handler"),
    )
    # then 三员分立 holds: the second is refused, naming it
    assert isinstance(out["first"], Membership)
    assert isinstance(out["second"], AdminRefused), out["second"]
    assert "三员分立" in str(out["second"])
    assert list(Membership.objects.filter(user=user, is_active=True)
                .values_list("role", flat=True)) == ["sysadmin"]


def test_two_administrators_creating_one_unit_at_once_make_it_once(jianan):
    # given two system administrators' forms for the same new village
    j = jianan
    town = j.townships["五女店镇"]

    def create():
        return unit_create(by=j.member("sysadmin"), name="新建村", level="village", kind="village",
                           parent=Unit.objects.get(pk=town.pk))

    # when both are sent at once
    out = race(create, create)
    # then the second waited for the first and was refused by name
    assert isinstance(out["first"], Unit)
    assert isinstance(out["second"], AdminRefused), out["second"]
    assert out["second"].field == "name"
    assert Unit.objects.filter(parent=town, name="新建村").count() == 1


def test_two_administrators_creating_one_top_level_unit_at_once_make_it_once(jianan):
    # given two system administrators' forms for the same new province (no parent row to lock)
    j = jianan

    def create():
        return unit_create(by=j.member("sysadmin"), name="新设省", level="province",
                           kind="government", parent=None)

    # when both are sent at once
    out = race(create, create)
    # then the second waited for the first and was refused by name
    assert isinstance(out["first"], Unit)
    assert out["second_waited"]
    assert isinstance(out["second"], AdminRefused), out["second"]
    assert out["second"].field == "name"
    assert Unit.objects.filter(parent=None, name="新设省").count() == 1


def test_two_security_administrators_withdrawing_each_other_at_once_leave_one(jianan):
    # given two security administrators, in different units
    j = jianan
    first = j.member("secadmin")
    user = User.objects.create_user("anquan2", password="Qiang#Mima2026", full_name="安全员二")
    second = Membership.objects.create(user=user, unit=j.office, role="secadmin")
    # when each withdraws the other's role at the same moment
    out = race(lambda: membership_revoke(by=first, membership=second),
               lambda: membership_revoke(by=second, membership=first))
    # then the second waited for the first and was refused: one security administrator is left
    assert isinstance(out["first"], Revoked)
    assert isinstance(out["second"], AdminRefused), out["second"]
    assert "最后一名有效的安全管理员" in out["second"].message
    assert list(Membership.objects.filter(role="secadmin", is_active=True)) == [first]


def test_two_system_administrators_switching_each_other_off_at_once_leave_one(jianan):
    # given two system administrators
    j = jianan
    first = j.member("sysadmin")
    user = User.objects.create_user("xitong2", password="Qiang#Mima2026", full_name="系统员二")
    second = Membership.objects.create(user=user, unit=j.office, role="sysadmin")
    # when each switches the other's account off at the same moment
    out = race(lambda: user_set_active(by=first, user=user, active=False),
               lambda: user_set_active(by=second, user=first.user, active=False))
    # then one account holding the role stays active
    assert isinstance(out["first"], User)
    assert isinstance(out["second"], AdminRefused), out["second"]
    assert list(User.objects.filter(memberships__role="sysadmin", is_active=True)) == [first.user]


@pytest.mark.parametrize("grant_first", [False, True])
def test_a_grant_and_the_units_switching_off_at_once_leave_no_member_in_an_inactive_unit(
        grant_first, jianan):
    # given a new village without members, a system administrator about to switch it off and a
    # security administrator about to grant a role in it (each holding the unit as read before)
    j = jianan
    user = User.objects.create_user("xiaozhou", password="Qiang#Mima2026", full_name="小周")
    village = unit_create(by=j.member("sysadmin"), name="新建村", level="village",
                          kind="village", parent=j.townships["五女店镇"])

    def switch_off():
        return unit_set_active(by=j.member("sysadmin"), unit=Unit.objects.get(pk=village.pk),
                               active=False)

    def grant():
        return membership_grant(by=j.member("secadmin"), user=user,
                                unit=Unit.objects.get(pk=village.pk), role="unit_handler")

    # when both are sent at once
    out = race(grant, switch_off) if grant_first else race(switch_off, grant)
    # then the second waited for the first and was refused, naming the unit
    later = out["second"]
    assert isinstance(later, AdminRefused), later
    assert out["second_waited"]
    village.refresh_from_db()
    members = Membership.objects.filter(unit=village, is_active=True)
    assert village.is_active == grant_first and members.exists() == grant_first


def test_a_grant_to_an_account_switched_off_at_that_moment_is_refused(jianan):
    # given an account the security administrator's form read as active
    j = jianan
    user = User.objects.create_user("xiaowu", password="Qiang#Mima2026", full_name="小吴")
    # when the system administrator switches it off while the grant is sent
    out = race(lambda: user_set_active(by=j.member("sysadmin"), user=user, active=False),
               lambda: membership_grant(by=j.member("secadmin"), user=User.objects.get(pk=user.pk),
                                        unit=j.office, role="clerk"))
    # then the grant waited and was refused, naming the account
    assert isinstance(out["second"], AdminRefused), out["second"]
    assert out["second"].field == "user"
    assert not Membership.objects.filter(user=user).exists()


def test_a_token_authorised_while_its_role_is_withdrawn_does_not_outlive_the_role(jianan):
    # given the clerk's role, which the system administrator is making a token for (the form
    # read it as active) while the security administrator withdraws it
    from xinfang.integrations.models import ApiToken
    from xinfang.integrations.services import token_authorise

    j = jianan
    clerk = j.member("clerk")

    def make_token():
        return token_authorise(by=j.member("sysadmin"), membership=Membership.objects.get(
            pk=clerk.pk), name="12345热线", scopes=["read"])

    # when both are sent at once, either first
    out = race(lambda: membership_revoke(by=j.member("secadmin"), membership=clerk), make_token)
    # then the token waited and was refused, naming the role
    assert out["second_waited"]
    assert "已停用" in str(out["second"]), out["second"]
    assert not ApiToken.objects.exists()
    # and, the other way round, the withdrawal waits and revokes the token just made
    membership_grant(by=j.member("secadmin"), user=clerk.user, unit=clerk.unit, role=clerk.role)
    out = race(make_token, lambda: membership_revoke(by=j.member("secadmin"),
                                                     membership=clerk))
    assert ApiToken.objects.get().status() == "revoked"


def test_a_token_authorised_while_its_account_is_switched_off_does_not_outlive_it(jianan):
    from xinfang.integrations.models import ApiToken
    from xinfang.integrations.services import token_authorise

    # given the clerk's account, switched off by one system administrator while another makes
    # a token for the clerk's role (the form read the account as active)
    j = jianan
    clerk = j.member("clerk")

    def make_token():
        return token_authorise(by=j.member("sysadmin"), membership=Membership.objects.get(
            pk=clerk.pk), name="12345热线", scopes=["read"])

    def switch_off():
        return user_set_active(by=j.member("sysadmin"), user=User.objects.get(pk=clerk.user_id),
                               active=False)

    # when the switching off comes first, the token waits and is refused
    out = race(switch_off, make_token)
    assert out["second_waited"]
    assert "已停用" in str(out["second"]), out["second"]
    assert not ApiToken.objects.exists()
    # and when the token comes first, the switching off waits and revokes it
    user_set_active(by=j.member("sysadmin"), user=User.objects.get(pk=clerk.user_id),
                    active=True)
    out = race(make_token, switch_off)
    assert out["second_waited"]
    assert ApiToken.objects.get().status() == "revoked"


def test_two_auditors_withdrawn_at_once_by_two_security_administrators_leave_one(jianan):
    # given two auditors, and two security administrators
    j = jianan
    first = j.member("auditor")
    user = User.objects.create_user("shenji2", password="Qiang#Mima2026", full_name="审计员二")
    second = Membership.objects.create(user=user, unit=j.office, role="auditor")
    other = User.objects.create_user("anquan2", password="Qiang#Mima2026", full_name="安全员二")
    secadmin = Membership.objects.create(user=other, unit=j.office, role="secadmin")
    # when each withdraws one auditor at the same moment
    out = race(lambda: membership_revoke(by=j.member("secadmin"), membership=first),
               lambda: membership_revoke(by=secadmin, membership=second))
    # then the second counted what the first left: one auditor still reads the trail
    assert isinstance(out["first"], Revoked)
    assert isinstance(out["second"], AdminRefused), out["second"]
    assert "最后一名有效的审计管理员" in out["second"].message
    assert list(Membership.objects.filter(role="auditor", is_active=True)) == [second]


@pytest.mark.parametrize("assign_first", [False, True])
def test_an_assignment_and_the_units_switching_off_at_once_leave_no_open_case_with_it(
        assign_first, jianan):
    # given a signed-off case, a clerk about to assign it to 区住建局 and a system administrator
    # about to switch the bureau off (each holding the unit as read before)
    j = jianan
    bureau = j.bureaus["区住建局"]
    case = register_in(j)
    perform("propose", case=case, by=j.member("clerk"), proposal="交区住建局")
    perform("sign_off", case=case, by=j.member("approver"))

    def switch_off():
        return unit_set_active(by=j.member("sysadmin"), unit=Unit.objects.get(pk=bureau.pk),
                               active=False)

    def assign():
        return perform("assign", case=case.pk, by=j.member("clerk"),
                       lead=Unit.objects.get(pk=bureau.pk), receiver_name="陈晓东")

    # when both are sent at once
    out = race(assign, switch_off) if assign_first else race(switch_off, assign)
    # then the second waited for the first and was refused, naming the unit
    later = out["second"]
    assert isinstance(later, AdminRefused if assign_first else Refused), later
    assert "区住建局" in str(later)
    assert out["second_waited"]
    bureau.refresh_from_db()
    assert bureau.is_active == assign_first
    assert case.assignments.filter(unit=bureau).exists() == assign_first


def test_two_revocations_at_once_of_a_units_last_two_roles_say_it_once(jianan):
    # given 区民政局 leading an open case, with two members
    from tests.api.world import walk
    from xinfang.notify.models import Kind, Notice

    j = jianan
    walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=())
    second = User.objects.create_user("minzheng2", full_name="民政二")
    other = membership_grant(by=j.member("secadmin"), user=second, unit=j.bureaus["区民政局"],
                             role="unit_handler")
    secadmin = j.member("secadmin")
    # when two security administrators each withdraw one of them at once
    out = race(lambda: membership_revoke(by=secadmin, membership=j.member("bureau")),
               lambda: membership_revoke(by=secadmin, membership=other))
    # then the second waited on the unit and found nobody left: said once, by the second
    assert out["second_waited"]
    assert out["first"].unattended == () and len(out["second"].unattended) == 1
    assert Notice.objects.filter(kind=Kind.UNATTENDED).count() == 1
