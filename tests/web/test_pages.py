"""Every page answers for every role, and each role sees exactly the actions it may take."""

import re

import pytest
from django.urls import reverse

from xinfang.cases.services import available
from xinfang.web.views.cases import offered_actions

from .conftest import ADMINS, MEMBERS, signed_in

pytestmark = pytest.mark.django_db

ACTION = re.compile(r'data-action="([a-z_]+)"')
SERVER_ERROR = 500


def pages_for(stages):
    static = [
        "web:root",
        "web:home",
        "web:register",
        "web:ledger",
        "web:screening",
        "web:backlog",
        "web:roster",
        "web:supervision",
        "web:rules_profiles",
        "web:rules_calendar",
        "web:admin_units",
        "web:admin_users",
        "web:admin_roles",
        "web:admin_keys",
        "web:audit_log",
        "web:public",
        "web:login",
    ]
    urls = [reverse(name) for name in static]
    urls += [reverse("web:ledger") + "?state=registered", reverse("web:ledger") + "?page=2"]
    urls += [
        reverse("web:ledger") + "?search=%E5%8D%B1%E6%88%BF&overdue=true&sort=due&repeat=true",
        reverse("web:ledger") + "?received_from=2026-13-01&village=x&unit=1",
        reverse("web:audit_log") + "?verify=1&action=login",
        reverse("web:admin_roles") + "?locked=1&q=clerk",
    ]
    some_unit = stages["registered"].jurisdiction
    urls += [
        reverse("web:admin_unit", args=[some_unit.pk]),
        reverse("web:admin_user", args=[stages["registered"].registered_by_id]),
        reverse("web:admin_roles_user", args=[stages["registered"].registered_by_id]),
        reverse("web:password_handovers"),
        reverse("integrations:mine"),
    ]
    urls += [reverse("web:case", args=[case.pk]) for case in stages.values()]
    urls += [reverse("web:register_villages") + "?township=1"]
    return urls


# The two sweeps below loop over the members inside one test each: building the cases of every
# stage costs seconds, and a failure message names the member and the page.


def test_every_page_answers_for_every_role_without_a_server_error(jianan, stages):
    for member in MEMBERS:
        # given
        client = signed_in(jianan.member(member))
        # when / then
        for url in pages_for(stages):
            response = client.get(url)
            assert response.status_code < SERVER_ERROR, (member, url)
            assert response.status_code in (200, 302, 403, 404), (member, url, response.status_code)


def test_a_role_is_shown_only_the_actions_available_to_it(jianan, stages):
    busy = set()
    for member in [m for m in MEMBERS if m not in ADMINS]:
        m = jianan.member(member)
        client = signed_in(m)
        for stage, case in stages.items():
            response = client.get(reverse("web:case", args=[case.pk]))
            if response.status_code == 404:
                continue
            assert response.status_code == 200, (member, stage)
            rendered = ACTION.findall(response.content.decode())
            assert len(rendered) == len(set(rendered)), (member, stage)
            allowed = set(available(case=case, by=m))
            assert set(rendered) <= allowed, (member, stage, set(rendered) - allowed)
            assert rendered == offered_actions(case, m), (member, stage)
            if rendered:
                busy.add(member)
    assert {"clerk", "approver", "chief", "township", "discipline"} <= busy


@pytest.mark.parametrize("member", ADMINS)
def test_the_three_administrators_get_no_case_page(member, jianan, stages):
    client = signed_in(jianan.member(member))
    for name in ["web:home", "web:register", "web:ledger", "web:supervision"]:
        assert client.get(reverse(name)).status_code == 403
    for case in stages.values():
        response = client.get(reverse("web:case", args=[case.pk]))
        assert response.status_code == 403
        assert case.number not in response.content.decode()


def test_a_case_outside_the_units_scope_is_a_404(jianan, stages):
    client = signed_in(jianan.member("bureau"))
    assert client.get(reverse("web:case", args=[stages["registered"].pk])).status_code == 404


def test_pages_carry_no_inline_script_or_style(jianan, stages):
    client = signed_in(jianan.member("clerk"))
    for url in pages_for(stages):
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"<style", html), url
        assert not re.search(r"\son[a-z]+=", html), url


def test_signed_out_visitors_are_sent_to_sign_in(client, stages):
    response = client.get(reverse("web:case", args=[stages["registered"].pk]))
    assert response.status_code == 302 and reverse("web:login") in response["Location"]
