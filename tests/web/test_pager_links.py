"""A pager's next page is of the same list: its links carry the page's filters and search,
encoded, whatever was typed into them."""

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.org.models import User
from xinfang.registers.models import BacklogCase

from .conftest import signed_in

pytestmark = pytest.mark.django_db

NEXT = re.compile(r'<nav class="pager".*?<a href="([^"]+)">下一页</a>', re.S)


def _next_page(client, url: str) -> str:
    """The page the first page's 下一页 link opens, as the browser follows it."""
    first = client.get(url)
    assert first.status_code == 200
    link = NEXT.search(first.content.decode())
    assert link, "the first page offers a next page"
    return client.get(url.split("?", 1)[0] + html.unescape(link.group(1))).content.decode()


def test_the_second_page_of_open_backlog_lines_holds_no_resolved_line(jianan, monkeypatch):
    monkeypatch.setattr("xinfang.web.views.registers.PAGE_SIZE", 1)
    j, now = jianan, timezone.now()
    for name in ("马小红", "马小兰"):
        BacklogCase.objects.create(
            jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name=name,
            reason="补助未兑现", designated_at=now)
    BacklogCase.objects.create(
        jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name="马大军",
        reason="已化解的", designated_at=now, resolved_at=now, outcome="已息诉")
    second = _next_page(signed_in(j.member("clerk")), reverse("web:backlog") + "?resolved=false")
    assert "补助未兑现" in second and "已化解的" not in second
    assert "第 2 / 2 页" in second  # two open lines, one a page: not three lines' pages


def test_the_second_page_of_a_search_with_an_ampersand_and_a_hash_is_of_that_search(
        jianan, monkeypatch):
    monkeypatch.setattr("xinfang.web.views.admin.PAGE_SIZE", 1)
    for n in (1, 2):
        User.objects.create_user(username=f"r&d#{n}", password=None, full_name=f"研发{n}")
    client = signed_in(jianan.member("sysadmin"))
    second = _next_page(client, reverse("web:admin_users") + "?q=r%26d%23")
    assert "r&amp;d#2" in second and "clerk" not in second


def test_the_second_page_of_locked_accounts_lists_locked_accounts_only(jianan, monkeypatch):
    monkeypatch.setattr("xinfang.web.views.admin.PAGE_SIZE", 1)
    later = timezone.now() + timezone.timedelta(hours=1)
    User.objects.filter(username__in=["clerk", "approver"]).update(locked_until=later)
    client = signed_in(jianan.member("secadmin"))
    second = _next_page(client, reverse("web:admin_roles") + "?locked=1")
    assert "锁定至" in second
