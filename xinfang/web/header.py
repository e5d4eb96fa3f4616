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
from django.utils.html import escape, format_html, format_html_join
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


# -- the page's frame: what ``web/base.html`` writes around a page's title and content --------
#
# Every page wrote the same forty-odd template nodes around its own content: four ``{% static %}``
# and five ``{% url %}`` lookups, a dozen ``{% translate %}``s, the bell and the user's name. That
# was about half of a refused page's CPU (the frame every page pays). The parts that depend only
# on the language, the script prefix, the URLconf and the static files' settings are written
# once per process (``_fixed``); the request's own parts — the CSRF token, the header above, the
# bell, the user's name — are written here on each call, escaped as the template escaped them.


@dataclass(frozen=True)
class _Fixed:
    head_open: str  # up to and with "<title>"
    head_close: str  # from the title's suffix to "<body "
    after_body: str  # the skip link and the brand
    switch_open: str  # the switcher form, up to the CSRF input
    switch_close: str  # from the label to the <select>'s opening
    switch_end: str  # after the options
    bell_open: str  # the bell link, up to its count
    user_open: str  # the account link, up to the user's name
    logout: str  # the logout form, up to the CSRF input
    logout_end: str
    footer: str


@lru_cache(maxsize=64)
def _fixed(language: str, prefix: str, urlconf, static_key: tuple) -> _Fixed:
    from django.templatetags.static import static

    name = escape(_("涉贫信访业务系统"))
    return _Fixed(
        head_open=(
            f'<!doctype html>\n<html lang="{escape(language)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, '
            '"allowEval": false, "allowScriptTags": false, "historyCacheSize": 0}\'>\n'
            "<title>"),
        head_close=(
            f" · {name}</title>\n"
            f'<link rel="icon" href="{escape(static("web/img/favicon.svg"))}" '
            'type="image/svg+xml">\n'
            f'<link rel="stylesheet" href="{escape(static("web/css/site.css"))}">\n'
            f'<script src="{escape(static("web/vendor/htmx.min.js"))}" defer></script>\n'
            f'<script src="{escape(static("web/js/site.js"))}" defer></script>\n'
            "</head>\n<body "),
        after_body=(
            f'<a class="skip" href="#main">{escape(_("跳到正文"))}</a>\n<header class="site">\n'
            f'  <a class="brand" href="{escape(reverse("web:root"))}">{name}</a>\n'),
        switch_open=(
            f'    <form method="post" action="{escape(reverse("web:switch_membership"))}" '
            'class="switcher">\n      '),
        switch_close=(
            f'\n      <label for="membership-switch">{escape(_("当前任职"))}</label>\n'
            '      <select id="membership-switch" name="membership" data-autosubmit>\n'),
        switch_end=(
            "\n      </select>\n"
            f'      <button type="submit" class="small">{escape(_("切换"))}</button>\n'
            "    </form>\n"),
        bell_open=(
            f'    <a class="bell" id="bell" href="{escape(reverse("notify:inbox"))}" '
            f'title="{escape(_("我的提醒"))}"><span aria-hidden="true">&#128276;</span> '
            f'{escape(_("提醒"))}'),
        user_open=(
            f'    <a class="user" href="{escape(reverse("web:account_password"))}" '
            f'title="{escape(_("我的账户：密码与动态验证码"))}">'),
        logout=(
            f'    <form method="post" action="{escape(reverse("web:logout"))}" class="logout">\n'
            "      "),
        logout_end=(
            f'\n      <button type="submit" class="small quiet">{escape(_("退出"))}</button>\n'
            "    </form>\n  </div>\n"),
        footer=(
            f'<footer class="site">\n  <a href="{escape(reverse("web:public"))}">'
            f'{escape(_("信访事项办理进度查询"))}</a>\n</footer>\n'),
    )


def _fixed_now() -> _Fixed:
    return _fixed(get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF,
                  (settings.STATIC_URL, settings.STORAGES["staticfiles"]["BACKEND"]))


def frame_head() -> SafeString:
    """The page from its doctype to its ``<title>`` (the page's title follows)."""
    return mark_safe(_fixed_now().head_open)


def frame_header(context) -> SafeString:
    """From the title's end to the site header's end: the assets, the body's CSRF header for
    htmx, the brand, the navigation, the switcher, the bell, the account and logout."""
    fixed = _fixed_now()
    token = escape(str(context.get("csrf_token", "")))
    csrf_input = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    out = [fixed.head_close, f"hx-headers='{{\"X-CSRFToken\": \"{token}\"}}'>\n",
           fixed.after_body]
    header = context.get("header")
    user = context.get("user")
    out.append(f"  {header.nav if header is not None else ''}\n")
    if user is not None and user.is_authenticated:
        out.append('  <div class="who">\n')
        if header is not None and header.switch:
            out += [fixed.switch_open, csrf_input, fixed.switch_close, header.who,
                    fixed.switch_end]
        elif header is not None:
            out.append(f"    {header.who}\n")
        bell = context.get("bell")
        if bell is not None and bell.shown:
            count = (f'<span class="count" id="bell-count">{escape(bell.label)}</span>'
                     if bell.unread else "")
            out.append(f"{fixed.bell_open}{count}</a>\n")
        out += [fixed.user_open, escape(user.full_name or user.username), "</a>\n",
                fixed.logout, csrf_input, fixed.logout_end]
    out.append("</header>\n")
    return mark_safe("".join(out))


def frame_footer() -> SafeString:
    return mark_safe(_fixed_now().footer)
