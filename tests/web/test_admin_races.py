"""Two administrators at once on PostgreSQL: what one checks before writing still holds when the
other's write commits."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.racing import race
from xinfang.org.models import Membership, Unit, User
from xinfang.web.admin_services import AdminRefused, membership_grant, unit_create

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
