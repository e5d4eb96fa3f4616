"""The bell and the inbox in a real browser (Debian's Chromium through Playwright), with the
site's CSP enforced: the count in the header, the page, marking read, dismissing with a reason."""

from __future__ import annotations

import pytest

from tests.conftest import register_in, sh
from tests.web.conftest import walk
from tests.web.test_browser import Visit, chromium  # noqa: F401  (the fixture)
from xinfang.cases.services.supervision import sweep
from xinfang.notify.models import Kind
from xinfang.notify.selectors import inbox, unread_count

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bell_and_inbox(chromium, live_server, jianan):  # noqa: F811
    j = jianan
    case = walk(j, register_in(j), "assigned")
    sweep(at=sh(2027, 6, 1, 9))
    clerk = j.member("clerk")
    unread = unread_count(clerk)
    assert unread >= 2
    v = Visit(chromium, live_server.url)
    v.sign_in(clerk.user.username)
    v.go("/work/")
    page = v.page
    assert page.inner_text("#bell-count") == str(unread)
    v.shot("inbox-bell")
    v.submit("#bell")
    assert page.url.endswith("/inbox/")
    assert page.locator("#inbox-table tbody tr").count() == unread
    assert case.number in page.inner_text("#inbox-table")
    v.shot("inbox-page")
    # Mark the first notice read: the bell goes down by one.
    v.submit("#inbox-table tbody tr.unread >> nth=0 >> text=标为已读")
    assert page.inner_text("#bell-count") == str(unread - 1)
    # An overdue notice needs a reason to be dismissed: the browser will not send it empty.
    overdue = inbox(clerk).filter(kind=Kind.OVERDUE).first()
    row = page.locator(f'tr[data-notice="{overdue.pk}"]')
    row.locator("form.dismiss button").click()
    assert page.url.endswith("/inbox/")  # not sent: the reason is required
    row.locator("input[name=reason]").fill("已电话督促承办单位")
    with page.expect_navigation():
        row.locator("form.dismiss button").click()
    assert "已销号" in page.inner_text(".messages")
    assert page.locator(f'tr[data-notice="{overdue.pk}"]').count() == 0
    v.go("/inbox/?show=all")
    assert "已电话督促承办单位" in page.inner_text(f'tr[data-notice="{overdue.pk}"]')
    v.shot("inbox-dismissed")
    assert not v.problems, v.problems
