"""The page header's navigation and membership switcher, written once per distinct content.

Every page rendered the same few lines through the template engine — a ``reverse()`` and a
loop body per navigation item, a ``get_role_display`` and a unit per membership. Each fragment
here is a pure function of what it shows, and is kept (a bounded LRU, per process) under exactly
that:

- the navigation: the acting role, the section the page belongs to (``aria-current``), the
  language, the script prefix and the URLconf;
- the switcher (or the "current membership" line): every membership's id, unit name and role,
  the one acted as, and the language.

So nothing is ever invalidated: a renamed unit, a changed role, a membership granted, revoked
or deactivated is a different key and so a fresh fragment; and a fragment holds nothing that is
not in its key, so one user's header cannot be served to another (membership ids are unique).
What differs per request — the CSRF token of the two forms, the bell, the user's name — stays
in ``web/base.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinfang.org.choices import Role
from xinfang.org.models import Membership


@dataclass(frozen=True)
class Header:
    nav: SafeString  # the <nav> block, or "" for a membership with no page to offer
    switch: bool  # several memberships: the switcher form (its CSRF token is the template's)
    who: SafeString  # the switcher's <option>s, or the current membership's line


NO_HEADER = Header(mark_safe(""), False, mark_safe(""))


def header_for(memberships: list[Membership], m: Membership | None, here: str) -> Header:
    """The header of a page in section ``here`` (a view name) acted as ``m``, for a user whose
    active memberships are ``memberships``."""
    language = get_language()
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    nav = _nav_html(m.role, here, language, get_script_prefix(), urlconf) if m else ""
    entries = tuple((x.pk, x.unit.name, x.role) for x in memberships)
    switch = len(entries) > 1
    current = m.pk if m is not None else None
    if switch:
        who = _options_html(entries, current, language)
    elif m is not None:
        who = _current_html(m.unit.name, m.role, language)
    else:
        who = ""
    return Header(mark_safe(nav), switch, mark_safe(who))


@lru_cache(maxsize=1024)
def _nav_html(role: str, here: str, language: str, prefix: str, urlconf) -> str:
    from .context import nav_for_role

    items = nav_for_role(role)
    if not items:
        return ""
    rows = format_html_join(
        "\n",
        '      <li><a href="{}"{}>{}</a></li>',
        ((reverse(name), mark_safe(' aria-current="page"') if here in group else "", label)
         for name, label, group in items),
    )
    return format_html('<nav aria-label="{}">\n    <ul>\n{}\n    </ul>\n  </nav>',
                       _("主导航"), rows)


@lru_cache(maxsize=4096)
def _options_html(entries: tuple[tuple[int, str, str], ...], current: int | None,
                  language: str) -> str:
    return format_html_join(
        "\n",
        '        <option value="{}"{}>{} · {}</option>',
        ((pk, mark_safe(" selected") if pk == current else "", unit, _role_label(role))
         for pk, unit, role in entries),
    )


@lru_cache(maxsize=4096)
def _current_html(unit: str, role: str, language: str) -> str:
    return format_html('<span class="current">{} · {}</span>', unit, _role_label(role))


def _role_label(role: str) -> str:
    """What ``get_role_display`` shows: the role's label, or the stored value if unknown."""
    return Role(role).label if role in Role.values else role
