"""No rendered page of any role shows a code name from the workflow, the profiles or the ledgers
where a Chinese label exists (issue 15: `规则 backlog_ownership` in case histories, `导出 ledger
L0` in the audit log, `chinese-calendar 1.11.0` as a calendar source, Django's English formset
wording)."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import sweep
from xinfang.cases.workflow import TRANSITIONS
from xinfang.demo.cases import load_cases
from xinfang.org.models import User
from xinfang.rules.profile import shipped_profiles

from .conftest import MEMBERS, signed_in
from .test_access import ACCESS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
ENGLISH_DJANGO = ("Please submit", "This field is required", "Enter a valid", "---------")


class VisibleText(HTMLParser):
    """The text a reader sees: element text and the labels of buttons, without scripts, styles,
    attribute values (ids and codes on purpose) and <code> (a template's field names, which the
    administrator types into a Word template)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", "code"):
            self._skip += 1
        elif tag == "input":
            kind = dict(attrs).get("type", "")
            if kind in ("submit", "button"):
                self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def code_names() -> set[str]:
    names = set(TRANSITIONS) | set(c.State.values)
    for profile in shipped_profiles().values():
        names |= {w.name for w in profile.warnings}
        names |= {r.name for r in profile.routing}
        names |= {k.name for k in profile.clocks}
    # Words that are also plain Chinese-page content (none of these are snake_case codes).
    return {n for n in names if "_" in n}


def findings(text: str, names: set[str], usernames: set[str]) -> list[str]:
    found = [m for m in SNAKE.findall(text) if m not in usernames]
    found += [w for w in ENGLISH_DJANGO if w in text]
    for leftover in ("chinese-calendar", "ledger L", " national ", "继承 national"):
        if leftover in text:
            found.append(leftover)
    return found


def test_no_page_of_any_role_shows_a_code_name(jianan):
    now = timezone.now()
    load_cases(jianan, now=now)
    sweep(at=now)
    names = code_names()
    usernames = set(User.objects.values_list("username", flat=True))  # the demo's logins
    seen: dict[str, list[str]] = {}
    for member in MEMBERS:
        client = signed_in(jianan.member(member))
        urls = [reverse(name) for name, allowed in ACCESS.items() if member in allowed]
        if member in ("clerk", "township", "approver"):
            mine = cases_for(jianan.member(member))
            urls += [reverse("web:case", args=[case.pk]) for case in mine]
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            bad = findings(visible(response.content.decode()), names, usernames)
            if bad:
                seen.setdefault(f"{member} {url}", sorted(set(bad)))
    assert not seen, "\n".join(f"{k}: {v}" for k, v in seen.items())
