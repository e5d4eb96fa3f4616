"""The page header (navigation and membership switcher) is written once per distinct content
and kept (``web.header``): it must still show each user their own memberships only, and follow
a renamed unit, a changed role, a granted or deactivated membership on the very next page."""

import re

from django.urls import reverse

from xinfang.org.choices import Role
from xinfang.org.models import Membership

from .conftest import signed_in


def header(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<header"):html.index("</header>")]


def options(text: str) -> list[tuple[str, bool, str]]:
    """The switcher's options: (value, selected, label)."""
    return [(v, bool(s), label) for v, s, label in
            re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', text)]


def nav(text: str) -> list[str]:
    return re.findall(r'<li><a href="([^"]+)"', text)


def test_two_users_with_alike_memberships_each_get_their_own_switcher(jianan):
    # given two users, each with the same two roles in the same two units: headers alike in
    # every word, different only in whose memberships the switcher posts
    clerk, township = jianan.member("clerk"), jianan.member("township")
    a = clerk
    a2 = Membership.objects.create(user=a.user, unit=township.unit, role=Role.CLERK)
    b = Membership.objects.create(user=township.user, unit=clerk.unit, role=Role.CLERK)
    b2 = Membership.objects.create(user=township.user, unit=township.unit, role=Role.CLERK)
    township.is_active = False
    township.save()
    # when each opens the same page, acting as the membership in the same unit
    first = options(header(signed_in(a).get(reverse("web:home"))))
    second = options(header(signed_in(b).get(reverse("web:home"))))
    # then each switcher lists that user's memberships and no other's
    assert [(v, s) for v, s, _ in first] == [(str(a.pk), True), (str(a2.pk), False)]
    assert [(v, s) for v, s, _ in second] == [(str(b.pk), True), (str(b2.pk), False)]
    assert [label for _, _, label in first] == [label for _, _, label in second]
    # and acting as the other membership moves the selection, for that user alone
    moved = options(header(signed_in(b2).get(reverse("web:home"))))
    assert [(v, s) for v, s, _ in moved] == [(str(b.pk), False), (str(b2.pk), True)]
    assert options(header(signed_in(a).get(reverse("web:home"))))[0][1] is True


def test_a_renamed_unit_shows_on_the_next_page(jianan):
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    assert f"{clerk.unit.name} · 经办人" in header(client.get(reverse("web:home")))
    clerk.unit.name = "建安区信访局（更名）"
    clerk.unit.save()
    text = header(client.get(reverse("web:home")))
    assert '<span class="current">建安区信访局（更名） · 经办人</span>' in text


def test_a_granted_then_deactivated_membership_shows_then_goes(jianan):
    clerk, township = jianan.member("clerk"), jianan.member("township")
    client = signed_in(clerk)
    assert "membership-switch" not in header(client.get(reverse("web:home")))
    extra = Membership.objects.create(user=clerk.user, unit=township.unit, role=Role.INSPECTOR)
    assert [v for v, _, _ in options(header(client.get(reverse("web:home"))))] == [
        str(clerk.pk), str(extra.pk)]
    extra.is_active = False
    extra.save()
    text = header(client.get(reverse("web:home")))
    # the sign-out form's random CSRF token may hold the id's digits (it held "14" once)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    assert "membership-switch" not in text and str(extra.pk) not in text


def test_a_changed_role_changes_the_navigation_on_the_next_page(jianan):
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    before = nav(header(client.get(reverse("web:home"))))
    assert reverse("web:register") in before and reverse("web:supervision") not in before
    clerk.role = Role.INSPECTOR
    clerk.save()
    text = header(client.get(reverse("web:home")))
    after = nav(text)
    assert reverse("web:register") not in after and reverse("web:supervision") in after
    assert "督查</span>" in text


def test_the_section_of_the_page_is_marked_current_and_no_other(jianan):
    client = signed_in(jianan.member("clerk"))
    for name in ("web:home", "web:ledger", "web:recusals"):
        text = header(client.get(reverse(name)))
        assert re.findall(r'<a href="([^"]+)" aria-current="page"', text) == [reverse(name)]


def test_an_escaped_unit_name_stays_escaped(jianan):
    clerk = jianan.member("clerk")
    clerk.unit.name = "<b>局</b>"
    clerk.unit.save()
    text = header(signed_in(clerk).get(reverse("web:home")))
    assert "&lt;b&gt;局&lt;/b&gt; · 经办人" in text and "<b>" not in text


def test_the_roles_page_header_shows_the_administrator_not_the_account_viewed(jianan):
    # the page lists another account's memberships under the same name the header's switcher
    # once read them from
    secadmin, clerk = jianan.member("secadmin"), jianan.member("clerk")
    Membership.objects.create(user=clerk.user, unit=jianan.member("township").unit,
                              role=Role.INSPECTOR)
    response = signed_in(secadmin).get(reverse("web:admin_roles_user", args=[clerk.user.pk]))
    text = header(response)
    assert "membership-switch" not in text
    assert f'<span class="current">{secadmin.unit.name} · 安全管理员</span>' in text


# -- the page's frame (``web.header.frame_*``: what base.html wrote through the engine) ----------


def test_the_frame_escapes_the_users_name_and_carries_the_requests_csrf_token(jianan):
    clerk = jianan.member("clerk")
    clerk.user.full_name = '<img src=x onerror="1">'
    clerk.user.save()
    Membership.objects.create(user=clerk.user, unit=jianan.member("township").unit,
                              role=Role.CLERK)
    client = signed_in(clerk)
    html = client.get(reverse("web:home")).content.decode()
    assert "&lt;img src=x onerror=&quot;1&quot;&gt;</a>" in html and "<img" not in html
    # the htmx header, the switcher and the logout form carry one token, the request's own
    tokens = re.findall(r'X-CSRFToken": "([^"]+)"', html) + re.findall(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', html[:html.index("</header>")])
    assert len(tokens) == 3 and len(set(tokens)) == 1
    second = client.get(reverse("web:home")).content.decode()
    assert re.findall(r'X-CSRFToken": "([^"]+)"', second) != tokens[:1]  # masked afresh


def test_the_frame_follows_the_language_and_the_static_settings(jianan, settings):
    from django.utils import translation

    from xinfang.web.header import frame_head

    client = signed_in(jianan.member("clerk"))
    html = client.get(reverse("web:home")).content.decode()
    assert html.startswith('<!doctype html>\n<html lang="zh-hans">')
    assert 'href="/static/web/css/site.css"' in html
    with translation.override("en"):
        assert frame_head().startswith('<!doctype html>\n<html lang="en">')
    assert frame_head().startswith('<!doctype html>\n<html lang="zh-hans">')
    settings.STATIC_URL = "/assets/"
    html = client.get(reverse("web:home")).content.decode()
    assert 'href="/assets/web/css/site.css"' in html
    assert '<script src="/assets/web/vendor/htmx.min.js" defer></script>' in html


def test_the_frame_of_a_page_signed_out_has_no_account_links():
    from django.test import Client

    html = Client().get(reverse("web:login")).content.decode()
    head = html[:html.index("</header>")]
    assert 'class="who"' not in head and "csrfmiddlewaretoken" not in head
    assert html.rstrip().endswith("</footer>\n</body>\n</html>")
    assert f'<a href="{reverse("web:public")}">信访事项办理进度查询</a>' in html
