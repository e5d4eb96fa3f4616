"""In a real browser: the clerk downloads the acceptance notice from the case page, the handling
unit downloads the decision letter once it is issued (Debian's Chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.documents.cases import MAIN, SECRET, issued, walk
from tests.documents.test_instruments import text_of
from tests.web.test_browser import Visit, chromium  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def download(v: Visit, selector: str) -> bytes:
    with v.page.expect_download() as info:
        v.page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_the_clerk_and_the_unit_download_their_documents(chromium, live_server, jianan):  # noqa: F811
    # given: registered and accepted (the unit delivered the acceptance notice), letter issued
    # (the letter frozen by its step's task; the notice's task has not run yet)
    case = walk(jianan, until="issue_letter", petitioners=[MAIN, SECRET])
    issued(case, "D2")

    v = Visit(chromium, live_server.url)
    v.sign_in("clerk")
    v.go(f"/cases/{case.pk}/")
    assert "文书下载" in v.page.inner_text("#instruments")
    v.shot("case-documents-clerk")
    # the notice not frozen yet: its button issues it (a POST) and downloads it
    text = text_of(download(v, "[data-document=D1-issue]"))
    assert "信访事项受理告知书" in text and case.number in text and case.query_code in text
    v.sign_out()

    # the township (handling unit) gets the letter, the confidential companion masked
    v.sign_in("township")
    v.go(f"/cases/{case.pk}/")
    text = text_of(download(v, "[data-document=D2-docx]"))
    assert "信访事项处理意见书" in text and "30日内" in text
    assert "张三明" in text and "李秀英" not in text
    assert not v.problems, v.problems
