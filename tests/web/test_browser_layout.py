"""Every page fits a 390 px phone without scrolling sideways, and the audit log keeps its
columns readable at 1366 px (issue 15 "Layout"). Real Chromium; skipped without it outside CI."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.cases.services import sweep
from xinfang.demo.cases import load_cases

from .test_access import ACCESS
from .test_browser import DESKTOP, PHONE, Visit, chromium  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The widest element, to name the culprit when a page scrolls sideways.
CULPRIT = """() => {
  let worst = null, right = window.innerWidth;
  for (const e of document.querySelectorAll('main *')) {
    const r = e.getBoundingClientRect().right;
    if (r > right + 1) { right = r; worst = e; }
  }
  if (!worst) return '';
  return worst.tagName + '.' + worst.className + '#' + worst.id + ' → ' + Math.round(right);
}"""


def pages_by_member() -> dict[str, list[str]]:
    by_member: dict[str, list[str]] = {}
    for name, allowed in ACCESS.items():
        by_member.setdefault(allowed[0], []).append(reverse(name))
    return by_member


def test_no_page_scrolls_sideways_at_phone_width(chromium, live_server, jianan):  # noqa: F811
    now = timezone.now()
    load_cases(jianan, now=now)
    sweep(at=now)
    wide: dict[str, str] = {}
    for member, urls in pages_by_member().items():
        v = Visit(chromium, live_server.url, viewport=PHONE)
        v.sign_in(jianan.member(member).user.username)
        if member == "clerk":
            urls = urls + ["/cases/1/", "/progress/"]
        for url in urls:
            v.go(url)
            v.page.wait_for_load_state("networkidle")
            over = v.page.evaluate(OVERFLOW)
            if over > 0:
                wide[f"{member} {url}"] = f"{over}px: {v.page.evaluate(CULPRIT)}"
        v.page.wait_for_load_state("networkidle")
        v.context.close()
    assert not wide, "\n".join(f"{k}: {w}" for k, w in wide.items())


def test_the_audit_log_keeps_its_columns_readable_at_desktop_width(
    chromium, live_server, jianan  # noqa: F811
):
    v = Visit(chromium, live_server.url, viewport=DESKTOP)
    v.sign_in(jianan.member("clerk").user.username)  # writes audit rows
    v.page.wait_for_load_state("networkidle")
    v.context.close()
    v = Visit(chromium, live_server.url, viewport=DESKTOP)
    v.sign_in(jianan.member("auditor").user.username)
    v.go(reverse("web:audit_log"))
    widths = v.page.eval_on_selector_all(
        "main table thead th", "ths => ths.map(t => [t.innerText, t.getBoundingClientRect().width])"
    )
    narrow = {text: w for text, w in widths if text != "#" and w < 56}  # under four characters
    assert not narrow, widths
