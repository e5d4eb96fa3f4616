"""Who may open which page (三员分立 and the office's own books), and that no page shows a link or
a button its reader may not use."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.org.models import Membership

from .conftest import ADMINS, MEMBERS, signed_in

pytestmark = pytest.mark.django_db

BUSINESS = [m for m in MEMBERS if m not in ADMINS]
OFFICE = ["clerk", "approver", "chief", "inspector", "city_clerk"]
# the units below the office keep their own register lines (registers.selectors)
KEEPERS = ["township", "township_head", "proxy", "bureau"]
# page → the members who may open it; every other member is refused (403)
ACCESS = {
    "web:home": BUSINESS,
    "web:ledger": BUSINESS,
    "web:register": ["clerk", "city_clerk"],
    "web:screening": [*OFFICE, *KEEPERS],
    "web:backlog": [*OFFICE, *KEEPERS],
    "web:roster": [*OFFICE, *KEEPERS],
    "web:supervision": ["approver", "chief", "inspector"],
    "scoring:index": OFFICE,
    "web:rules_profiles": ["sysadmin", *OFFICE],
    "web:rules_calendar": ["sysadmin", *OFFICE],
    "web:admin_units": ["sysadmin"],
    "documents:templates": ["sysadmin"],
    "web:admin_users": ["sysadmin"],
    "web:admin_roles": ["secadmin"],
    "web:admin_keys": ["secadmin"],
    "web:audit_log": ["auditor"],
    # xinfang.practices: the office of the jurisdiction and the units keeping their own records
    **{f"practices:{n}": [*OFFICE, *KEEPERS] for n in (
        "index", "return_visits", "meetings", "watch", "duty", "persuades", "campaigns")},
}
HREF = re.compile(r'href="(/[^"#]*)')
ACTION = re.compile(r'<form[^>]*method="post"[^>]*action="(/[^"]*)"')
NOT_PAGES = ("/static/", "/logout/", "/progress/", "/login/")


@pytest.mark.parametrize("name", ACCESS)
def test_each_page_opens_for_its_roles_and_refuses_the_rest(name, jianan):
    for member in MEMBERS:
        response = signed_in(jianan.member(member)).get(reverse(name))
        expected = 200 if member in ACCESS[name] else 403
        assert response.status_code == expected, (member, name, response.status_code)


def test_the_three_administrators_each_see_only_their_own_pages(jianan):
    nav = {}
    for member in ADMINS:
        html = signed_in(jianan.member(member)).get(reverse("web:root"), follow=True)
        header = html.content.decode().split("<main", 1)[0]
        links = {urlsplit(u).path for u in HREF.findall(header)}
        nav[member] = {u for u in links if not u.startswith("/static/")} - {"/"}
    own = reverse("web:account_password")  # every user's own account page
    approvals = reverse("web:admin_password_resets")
    tokens = reverse("integrations:tokens")  # both issue integration tokens (issue 16)
    assert nav["sysadmin"] == {
        reverse(n)
        for n in ("web:admin_units", "web:admin_users", "web:rules_profiles", "web:rules_calendar",
                  "documents:templates", "notify:channels")
    } | {own, approvals, tokens}
    assert nav["secadmin"] == {reverse("web:admin_roles"), reverse("web:admin_keys"), own,
                               approvals, reverse("notify:dead_letters"), tokens}
    assert nav["auditor"] == {reverse("web:audit_log"), own}


def _crawl(client, start: str, limit: int = 80) -> dict[str, int]:
    """Follow every same-site link from ``start`` (two levels): path → status."""
    seen: dict[str, int] = {}
    queue = [(start, 0)]
    while queue and len(seen) < limit:
        url, depth = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code != 200 or depth >= 2 or "html" not in response["Content-Type"]:
            continue
        for href in HREF.findall(response.content.decode()):
            href = href.replace("&amp;", "&")
            if href.startswith(NOT_PAGES) or "page=" in href or href.startswith("/api/"):
                continue
            queue.append((href, depth + 1))
    return seen


@pytest.mark.parametrize("member", MEMBERS)
def test_no_page_links_to_a_page_its_reader_may_not_open(member, jianan, register):
    # given a case in every list and a backlog and screening row
    case = register()
    client = signed_in(jianan.member(member))
    # when every link reachable from the landing page is followed
    start = client.get(reverse("web:root"))["Location"]
    seen = _crawl(client, start)
    # then none of them is refused
    refused = {url: status for url, status in seen.items() if status in (403, 404, 405)}
    assert not refused, (member, refused)
    if member in ADMINS:
        pages = "".join(client.get(u).content.decode() for u in seen if seen[u] == 200)
        assert case.number not in pages  # 三员分立: an administrator never sees a case


@pytest.mark.parametrize("member", MEMBERS)
def test_no_page_offers_a_form_its_reader_may_not_post(member, jianan, register):
    register()
    m = jianan.member(member)
    client = signed_in(m)
    start = client.get(reverse("web:root"))["Location"]
    posted = set()
    for url, status in _crawl(client, start).items():
        if status != 200:
            continue
        response = client.get(url)
        if "html" not in response["Content-Type"]:  # a document or case-file download
            continue
        for action in ACTION.findall(response.content.decode()):
            posted.add(urlsplit(action).path)
    prefixes = {
        "sysadmin": ("/admin/units/", "/admin/users/", "/rules/calendar/", "/admin/templates/"),
        "secadmin": ("/admin/roles/", "/admin/memberships/"),
        # reads the trail; posts only the start of its background check (lead50)
        "auditor": ("/admin/audit/verify/",),
    }
    posted.discard(reverse("web:logout"))
    posted.discard(reverse("web:switch_membership"))
    if member in prefixes:
        assert all(p.startswith(prefixes[member]) for p in posted), (member, posted)
    else:
        assert not any(p.startswith(("/admin/", "/rules/")) for p in posted), (member, posted)
    if member == "inspector":  # reads the registers, keeps none of them
        assert not any(p.startswith("/ledger/") for p in posted), posted


def test_a_user_with_several_memberships_acts_in_the_one_chosen(jianan):
    # given the clerk also serves as the county's inspector
    clerk = jianan.member("clerk")
    inspector = Membership.objects.create(user=clerk.user, unit=clerk.unit, role="inspector")
    # acting as the clerk: no supervision page; the export link names the clerk's membership
    client = signed_in(clerk)
    assert client.get(reverse("web:supervision")).status_code == 403
    assert f'data-membership="{clerk.pk}"' in client.get(reverse("web:ledger")).content.decode()
    # acting as the inspector (not the first membership): the export acts as the inspector too
    client = signed_in(inspector)
    assert client.get(reverse("web:supervision")).status_code == 200
    html = client.get(reverse("web:ledger")).content.decode()
    assert f'data-membership="{inspector.pk}"' in html


def test_a_page_reads_the_user_with_their_memberships_in_one_statement(jianan):
    """``org.backends.MembershipBackend``: the signed-in user and their active memberships are
    one statement of every request, not two; an ended membership is not among them, and the
    API's ``X-Membership`` names one of them from the same read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clerk = jianan.member("clerk")
    ended = Membership.objects.create(user=clerk.user, unit=clerk.unit, role="inspector",
                                      is_active=False)
    client = signed_in(clerk)
    with CaptureQueriesContext(connection) as q:
        assert client.get(reverse("web:home")).status_code == 200
    sql = [s["sql"] for s in q.captured_queries]
    assert not [s for s in sql if s.startswith('SELECT "org_user"')], sql
    assert len([s for s in sql if s.startswith('SELECT "org_membership"')]) == 1, sql
    # the ended membership cannot be chosen, in the web session or by the API's header
    client = signed_in(ended)
    assert f'data-membership="{clerk.pk}"' in client.get(reverse("web:ledger")).content.decode()
    assert client.get("/api/cases/", HTTP_X_MEMBERSHIP=str(ended.pk)).status_code == 403
    assert client.get("/api/cases/", HTTP_X_MEMBERSHIP=str(clerk.pk)).status_code == 200


def test_a_user_without_a_membership_or_deactivated_is_read_as_before(jianan):
    """No active membership: the user is read alone and refused the case pages; a deactivated
    user is signed out on the next request, memberships or not."""
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    Membership.objects.filter(user=clerk.user).update(is_active=False)
    response = client.get(reverse("web:home"))
    assert response.status_code == 403 and response.wsgi_request.user == clerk.user
    Membership.objects.filter(user=clerk.user).update(is_active=True)
    type(clerk.user).objects.filter(pk=clerk.user.pk).update(is_active=False)
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and not response.wsgi_request.user.is_authenticated


def test_the_memberships_read_once_compiled_are_the_querysets_instances(jianan):
    """``org.backends.active_memberships`` runs the statement the ORM compiled once and builds
    its rows itself: the same memberships, users, units and parents, every field converted as
    the queryset converts it (datetimes, booleans), a unit without a parent read as None."""
    from xinfang.org.backends import _members_queryset, active_memberships
    from xinfang.org.models import Unit, User

    clerk = jianan.member("clerk")
    top = Unit.objects.filter(parent=None).first()
    Membership.objects.create(user=clerk.user, unit=top, role="inspector")
    Membership.objects.create(user=clerk.user, unit=clerk.unit, role="chief", is_active=False)
    User.objects.filter(pk=clerk.user.pk).update(last_login=timezone.now())

    def fields(obj):
        return None if obj is None else [getattr(obj, f.attname)
                                         for f in type(obj)._meta.concrete_fields]

    def seen(m):
        return (fields(m), fields(m.user), fields(m.unit), fields(m.unit.parent),
                m._state.db, m._state.adding)

    built = active_memberships(clerk.user.pk)
    want = sorted(_members_queryset(clerk.user.pk), key=lambda m: m.pk)
    assert [seen(m) for m in built] == [seen(m) for m in want]
    assert len(built) == 2 and any(m.unit.parent is None for m in built)
    assert all(isinstance(m.user.last_login, type(timezone.now())) for m in built)
    assert active_memberships(jianan.member("sysadmin").user.pk + 10_000) == []


def test_a_form_sent_in_a_role_withdrawn_since_is_not_carried_out_in_another(jianan):
    # given the clerk also serves as the county's inspector, and acts as the inspector
    clerk = jianan.member("clerk")
    inspector = Membership.objects.create(user=clerk.user, unit=clerk.unit, role="inspector")
    client = signed_in(inspector)
    # when the inspector's role is withdrawn while a form is on the screen, and it is sent
    Membership.objects.filter(pk=inspector.pk).update(is_active=False)
    api = client.post("/api/cases/", {}, content_type="application/json")
    sent = client.post(reverse("web:register"), {})
    # then neither the page nor the API carries it out as the clerk; both say why
    assert sent.status_code == 409 and "角色已被撤销，本次提交未办理" in sent.content.decode()
    assert "现以“" in sent.content.decode()
    assert api.status_code == 403 and "已被撤销" in api.json()["detail"]
    # and the next page is the clerk's
    html = client.get(reverse("web:ledger")).content.decode()
    assert f'data-membership="{clerk.pk}"' in html
    assert client.get("/api/cases/").status_code == 200


def test_ids_written_in_digits_no_number_holds_are_read_as_none_not_a_500(jianan):
    # "²" is a digit to str.isdigit() and no number to int()
    client = signed_in(jianan.member("clerk"))
    assert client.get(reverse("web:register_villages"), {"township": "²"}).status_code == 200
    assert client.get(reverse("web:roster"), {"unit": "²"}).status_code == 200
    r = client.post(reverse("web:register_matches"), {"p-0-name": "王秀澜", "p-0-link": "²",
                                                      "township": "²", "village": "³"})
    assert r.status_code == 200
