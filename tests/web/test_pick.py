"""The administrators' pickers (``forms.pick``): a province's 37,000 units or thousands of roles
are not written into one select. Few rows: the plain select as before. Many: the first rows and a
search box, which asks ``web:pick`` for the matches; without script the typed text is searched
when the form is sent."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinfang.org.models import Membership, Unit, User
from xinfang.web.forms import pick

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[str]:
    """The option labels of the select named ``name``."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1))


def villages(parent: Unit, n: int, prefix: str = "新村") -> None:
    for i in range(n):
        Unit.objects.create(name=f"{prefix}{i}", level="village", kind="village", parent=parent)


def test_few_units_are_a_plain_select_of_them_all(jianan):
    html = signed_in(jianan.member("sysadmin")).get(reverse("web:admin_units")).content.decode()
    shown = options(html, "u-parent")
    assert len(shown) == Unit.objects.filter(is_active=True).count() + 1  # and the blank
    assert shown[0] == "—无（顶层单位）—"
    assert 'name="u-parent__q"' not in html


def test_many_units_show_the_first_rows_and_a_search_whatever_their_number(jianan, monkeypatch):
    monkeypatch.setattr(pick, "PICK_LIMIT", 5)
    client = signed_in(jianan.member("sysadmin"))
    url = reverse("web:admin_units")
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        html = client.get(url).content.decode()
    assert len(options(html, "u-parent")) == 1 + 5 + 1  # blank, five rows, "more" line
    assert 'name="u-parent__q"' in html
    assert f'hx-get="{reverse("web:pick", args=["units"])}"' in html
    villages(jianan.townships["将官池镇"], 200)
    with CaptureQueriesContext(connection) as after:
        html = client.get(url).content.decode()
    assert len(options(html, "u-parent")) == 7
    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_search_answers_the_matching_units_with_their_parent(jianan):
    villages(jianan.townships["将官池镇"], 3, prefix="岗东")
    client = signed_in(jianan.member("sysadmin"))
    response = client.get(reverse("web:pick", args=["units"]), {"u-parent__q": "岗东"})
    assert response.status_code == 200
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", response.content.decode())
    assert labels == ["—请选择—", "岗东0（将官池镇）", "岗东1（将官池镇）", "岗东2（将官池镇）"]
    # the chosen row stays chosen among the matches of another search
    chosen = Unit.objects.get(name="岗东1")
    html = client.get(reverse("web:pick", args=["units"]),
                      {"u-parent__q": "岗东2", "u-parent": chosen.pk,
                       "_pick_blank": "—无（顶层单位）—"}).content.decode()
    assert f'<option value="{chosen.pk}" selected>岗东1（将官池镇）</option>' in html
    assert "—无（顶层单位）—" in html and "岗东2（将官池镇）" in html
    nothing = client.get(reverse("web:pick", args=["units"]), {"u-parent__q": "无此单位"})
    assert "没有含“无此单位”的项" in nothing.content.decode()


def test_only_the_administrators_whose_forms_pick_may_search(jianan):
    url = reverse("web:pick", args=["units"])
    assert signed_in(jianan.member("clerk")).get(url, {"g-unit__q": "镇"}).status_code == 403
    assert signed_in(jianan.member("auditor")).get(url, {"g-unit__q": "镇"}).status_code == 403
    assert signed_in(jianan.member("secadmin")).get(url, {"g-unit__q": "镇"}).status_code == 200
    roles = reverse("web:pick", args=["memberships"])
    assert signed_in(jianan.member("secadmin")).get(roles, {"t-membership__q": "a"}
                                                     ).status_code == 403
    assert signed_in(jianan.member("sysadmin")).get(roles, {"t-membership__q": "clerk"}
                                                     ).status_code == 200
    assert signed_in(jianan.member("sysadmin")).get(
        reverse("web:pick", args=["cases"])).status_code == 404
    anonymous = signed_in(jianan.member("sysadmin"))
    anonymous.logout()
    assert anonymous.get(url, {"u-parent__q": "镇"}).status_code == 302


def test_without_script_a_typed_name_with_one_match_is_taken(jianan):
    client = signed_in(jianan.member("sysadmin"))
    response = client.post(reverse("web:admin_units"), {
        "u-name": "某某村", "u-level": "village", "u-kind": "village",
        "u-parent": "", "u-parent__q": "将官池",
    })
    assert response.status_code == 302
    assert Unit.objects.get(name="某某村").parent == jianan.townships["将官池镇"]


def test_without_script_several_matches_are_shown_to_choose_from(jianan):
    villages(jianan.townships["将官池镇"], 3, prefix="岗西")
    client = signed_in(jianan.member("sysadmin"))
    data = {"u-name": "某某组", "u-level": "village", "u-kind": "village",
            "u-parent": "", "u-parent__q": "岗西"}
    response = client.post(reverse("web:admin_units"), data)
    html = response.content.decode()
    assert response.status_code == 400 and not Unit.objects.filter(name="某某组").exists()
    assert "含“岗西”的不止一项，请在列表中选定一项。" in html
    assert options(html, "u-parent")[1:] == ["岗西0（将官池镇）", "岗西1（将官池镇）",
                                             "岗西2（将官池镇）"]
    assert 'name="u-parent__q" value="岗西"' in html
    data["u-parent__q"] = "无此单位"
    response = client.post(reverse("web:admin_units"), data)
    assert response.status_code == 400
    assert "没有含“无此单位”的项，请换个写法查找。" in response.content.decode()


def test_a_tampered_choice_outside_the_rows_is_refused(jianan):
    closed = Unit.objects.create(name="已撤销镇", level="township", kind="township",
                                 parent=jianan.county, is_active=False)
    user = User.objects.create_user("xiaozhao", password="Qiang#Mima2026", full_name="小赵")
    client = signed_in(jianan.member("secadmin"))
    response = client.post(reverse("web:admin_roles_user", args=[user.pk]),
                           {"g-unit": closed.pk, "g-role": "unit_handler"})
    assert response.status_code == 400 and not Membership.objects.filter(user=user).exists()
    # "五女店" is in 五女店镇 and 五女店村: the whole name picks the one so named
    response = client.post(reverse("web:admin_roles_user", args=[user.pk]),
                           {"g-unit": "", "g-unit__q": "五女店", "g-role": "unit_handler"})
    assert response.status_code == 400
    response = client.post(reverse("web:admin_roles_user", args=[user.pk]),
                           {"g-unit": "", "g-unit__q": "五女店镇", "g-role": "unit_handler"})
    assert response.status_code == 302
    assert Membership.objects.get(user=user).unit == jianan.townships["五女店镇"]


def test_an_api_tokens_role_is_picked_by_search_too(jianan, monkeypatch):
    monkeypatch.setattr(pick, "PICK_LIMIT", 2)
    client = signed_in(jianan.member("sysadmin"))
    html = client.get(reverse("integrations:tokens")).content.decode()
    assert len(options(html, "t-membership")) == 1 + 2 + 1
    assert 'name="t-membership__q"' in html
    clerk = jianan.member("clerk")
    found = client.get(reverse("web:pick", args=["memberships"]),
                       {"t-membership__q": clerk.user.username}).content.decode()
    assert f'value="{clerk.pk}"' in found
    assert not any(f'value="{m.pk}"' in found for m in Membership.objects.filter(
        role__in=["sysadmin", "secadmin", "auditor"]))


def test_a_big_jurisdictions_ledger_searches_its_places_and_filters_by_them(
        jianan, jurisdiction, monkeypatch, register):
    """A city's or the province's ledger (more units than PLACES_LISTED) searches its
    townships, villages and handling units instead of listing them; the filter still works
    by the unit's id, and a search reaches only the reader's own jurisdiction."""
    from xinfang.web.forms import ledger

    case = register(township=jianan.townships["将官池镇"], village=jianan.villages["岗朱村"])
    kaijiang = jurisdiction("kaijiang")
    monkeypatch.setattr(ledger, "PLACES_LISTED", 5)
    monkeypatch.setattr(pick, "PICK_LIMIT", 1)
    client = signed_in(jianan.member("clerk"))
    html = client.get(reverse("web:ledger")).content.decode()
    for name in ("township", "village", "unit"):
        assert f'name="{name}__q"' in html
    found = client.get(reverse("web:pick", args=["townships"]),
                       {"township__q": "将官池"}).content.decode()
    assert f'value="{jianan.townships["将官池镇"].pk}"' in found
    other = next(iter(kaijiang.townships.values()))
    assert f'value="{other.pk}"' not in client.get(
        reverse("web:pick", args=["townships"]), {"township__q": other.name}).content.decode()
    filtered = client.get(reverse("web:ledger"),
                          {"township": jianan.townships["将官池镇"].pk}).content.decode()
    assert case.number in filtered
    assert case.number not in client.get(
        reverse("web:ledger"), {"township": jianan.townships["五女店镇"].pk}).content.decode()
    assert signed_in(jianan.member("township")).get(
        reverse("web:pick", args=["townships"]), {"township__q": "镇"}).status_code == 403
