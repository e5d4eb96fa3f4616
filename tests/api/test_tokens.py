"""Integration tokens: bound to one membership and scopes, authorised and revoked by the system or
security administrator (page and command line), collected by the holder (test_token_collection),
audited; a token goes through the same door as its membership."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.api.test_cases_api import REGISTRATION, post
from tests.api.tokens import bearer, token_for
from tests.api.world import walk
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.integrations.models import ApiToken
from xinfang.integrations.services import digest_of, token_authorise, token_revoke
from xinfang.web.admin_services import membership_grant, membership_revoke, user_set_active


def test_a_token_is_stored_hashed_and_shown_once(jianan):
    token, raw = token_for(jianan, "clerk", "read")
    assert raw.startswith("xf_") and len(raw) > 40
    row = ApiToken.objects.get(pk=token.pk)
    assert row.digest == digest_of(raw) and raw not in str(row.__dict__)
    assert row.prefix == raw[:10]


def test_a_read_token_reads_as_its_membership(jianan):
    walk(jianan, "registered")
    _, raw = token_for(jianan, "clerk", "read")
    response = bearer(raw).get("/api/cases/")
    assert response.status_code == 200 and response.json()["count"] == 1
    # The township sees nothing of an unassigned case: the same door as the membership.
    _, township = token_for(jianan, "township", "read")
    assert bearer(township).get("/api/cases/").json()["count"] == 0


def test_a_read_token_cannot_register_or_transition(jianan):
    case = walk(jianan, "registered")
    _, raw = token_for(jianan, "clerk", "read")
    client = bearer(raw)
    response = client.post("/api/cases/", REGISTRATION, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert "权限范围" in response.json()["detail"]
    response = post(client, case, "propose", expected_version=case.version, proposal="交镇办理")
    assert response.status_code == 403


def test_a_transition_token_transitions_and_a_register_token_registers(jianan):
    case = walk(jianan, "registered")
    _, act = token_for(jianan, "clerk", "transition")
    response = post(bearer(act), case, "propose", expected_version=case.version,
                    proposal="交将官池镇办理")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "proposed"
    # … but it may not read the list (no read scope).
    assert bearer(act).get("/api/cases/").status_code == 403
    _, reg = token_for(jianan, "clerk", "register")
    assert bearer(reg).post("/api/cases/", REGISTRATION, format="json").status_code == 201


def test_an_intake_token_registers_referrals_only(jianan):
    _, raw = token_for(jianan, "clerk", "intake")
    response = bearer(raw).post("/api/cases/", REGISTRATION, format="json")
    assert response.status_code == 403 and "channel" in response.json()["errors"]
    referral = dict(REGISTRATION, channel="referral", source_office="12345热线",
                    source_reference="XF-2026-0001")
    assert bearer(raw).post("/api/cases/", referral, format="json").status_code == 201


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_only_a_read_token_reads_the_schema(jianan, path):
    # given the hotline's token, which may send referrals and nothing else
    _token, intake = token_for(jianan, "clerk", "intake")
    _token, read = token_for(jianan, "clerk", "read", name="省信访系统")
    # when it asks for the API's schema (or its docs page), which no membership acts on
    response = bearer(intake).get(path)
    # then its scopes still hold: reading is the read scope's
    assert response.status_code == 403
    if path == "/api/schema/":  # the docs page is the site's own refusal page
        assert "权限范围" in response.content.decode(), response.content
    assert bearer(read).get(path).status_code == 200


def test_a_token_keeps_the_roles_own_limits(jianan):
    """A township handler's token with every scope still cannot register (only a clerk does)."""
    _, raw = token_for(jianan, "township", "register", "read", "transition")
    response = bearer(raw).post("/api/cases/", REGISTRATION, format="json")
    assert response.status_code == 403


def test_a_token_cannot_act_as_another_membership(jianan):
    _, raw = token_for(jianan, "clerk", "read")
    client = bearer(raw)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}",
                       HTTP_X_MEMBERSHIP=str(jianan.member("approver").pk))
    assert client.get("/api/cases/").status_code == 403


def test_a_revoked_token_is_refused_at_its_next_request(jianan):
    token, raw = token_for(jianan, "clerk", "read")
    client = bearer(raw)
    assert client.get("/api/cases/").status_code == 200
    token_revoke(by=jianan.member("sysadmin"), token=token)
    response = client.get("/api/cases/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert "Authorization" in response.json()["errors"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_role_withdrawn_and_granted_again_does_not_bring_its_old_token_back(jianan):
    # given the hotline's token on the clerk's role
    clerk = jianan.member("clerk")
    token, raw = token_for(jianan, "clerk", "read")
    # when the security administrator withdraws the role, and months later grants it again
    membership_revoke(by=jianan.member("secadmin"), membership=clerk)
    again = membership_grant(by=jianan.member("secadmin"), user=clerk.user, unit=clerk.unit,
                             role=clerk.role)
    assert again.pk == clerk.pk and again.is_active  # the same role, switched on again
    # then the old token stays dead: it was revoked with the role, and says so
    assert bearer(raw).get("/api/cases/").status_code == 401
    token.refresh_from_db()
    assert token.status() == "revoked" and token.revoked_by_name
    entry = AuditEntry.objects.filter(object_type="api_token", object_id=str(token.pk),
                                      detail__change="token_revoke").get()
    assert entry.actor_id == jianan.member("secadmin").user_id


def test_an_account_switched_off_and_on_again_does_not_bring_its_old_token_back(jianan):
    # given the hotline's token on the clerk's role
    clerk = jianan.member("clerk")
    token, raw = token_for(jianan, "clerk", "read")
    # when the system administrator switches the clerk's account off (the clerk has left), and
    # later on again
    user_set_active(by=jianan.member("sysadmin"), user=clerk.user, active=False)
    assert bearer(raw).get("/api/cases/").status_code == 401
    user_set_active(by=jianan.member("sysadmin"), user=clerk.user, active=True)
    # then the old token stays dead, listed as revoked, and the revocation is audited
    assert bearer(raw).get("/api/cases/").status_code == 401
    token.refresh_from_db()
    assert token.status() == "revoked"
    assert AuditEntry.objects.filter(object_type="api_token", object_id=str(token.pk),
                                     detail__change="token_revoke").exists()


def test_an_expired_token_and_a_wrong_one_are_refused(jianan):
    token, raw = token_for(jianan, "clerk", "read",
                           expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(raw).get("/api/cases/").status_code == 401
    assert bearer("xf_not-a-token").get("/api/cases/").status_code == 401


def test_a_token_of_a_withdrawn_membership_is_refused(jianan):
    _, raw = token_for(jianan, "clerk", "read")
    m = jianan.member("clerk")
    m.is_active = False
    m.save(update_fields=["is_active"])
    assert bearer(raw).get("/api/cases/").status_code == 401


@pytest.mark.parametrize("who", ["clerk", "approver", "auditor", None])
def test_only_the_system_and_security_administrators_authorise_tokens(jianan, who):
    with pytest.raises(Refused):
        token_authorise(by=jianan.member(who) if who else None,
                        membership=jianan.member("clerk"), name="x", scopes=["read"])


@pytest.mark.parametrize("change, field", [
    ({"membership": "auditor"}, "membership"), ({"scopes": []}, "scopes"),
    ({"scopes": ["admin"]}, "scopes"), ({"name": " "}, "name"),
])
def test_a_token_request_is_checked_field_by_field(jianan, change, field):
    kw = {"membership": "clerk", "scopes": ["read"], "name": "热线", **change}
    with pytest.raises(Refused) as e:
        token_authorise(by=jianan.member("secadmin"),
                        membership=jianan.member(kw["membership"]), name=kw["name"],
                        scopes=kw["scopes"])
    assert e.value.field == field


def test_authorising_collecting_and_revoking_are_audited(jianan):
    token, _ = token_for(jianan, "clerk", "read")
    token_revoke(by=jianan.member("secadmin"), token=token)
    changes = [e.detail["change"] for e in
               AuditEntry.objects.filter(object_type="api_token").order_by("pk")]
    assert changes == ["token_authorise", "token_collect", "token_revoke"]


def test_the_admin_page_authorises_and_revokes_and_the_holder_collects(jianan):
    admin = jianan.member("secadmin")
    client = Client()
    client.force_login(admin.user)
    session = client.session
    session["membership_id"] = admin.pk
    session.save()
    response = client.post("/admin/tokens/", {
        "t-name": "省信访信息系统", "t-membership": jianan.member("clerk").pk,
        "t-scopes": ["read", "intake"]}, follow=True)
    assert response.status_code == 200, response.content.decode()[:2000]
    token = ApiToken.objects.get(name="省信访信息系统")
    assert '<code class="token">' not in response.content.decode()
    holder = Client()
    holder.force_login(jianan.member("clerk").user)
    html = holder.post(f"/account/tokens/{token.pk}/collect/").content.decode()
    raw = html.split('<code class="token">')[1].split("</code>")[0]
    assert bearer(raw).get("/api/cases/").status_code == 200
    assert raw not in client.get("/admin/tokens/").content.decode()
    client.post(f"/admin/tokens/{token.pk}/revoke/")
    assert bearer(raw).get("/api/cases/").status_code == 401


def test_the_token_form_sent_twice_authorises_one_token(jianan):
    # given the token page as drawn for the security administrator, its form's one-time token
    admin = jianan.member("secadmin")
    client = Client()
    client.force_login(admin.user)
    session = client.session
    session["membership_id"] = admin.pk
    session.save()
    drawn = client.get("/admin/tokens/").content.decode()
    once = drawn.split('name="once" value="', 1)[1].split('"', 1)[0]
    data = {"t-name": "12345热线", "t-membership": jianan.member("clerk").pk,
            "t-scopes": ["intake"], "once": once}
    # when the administrator double-clicks 授权 (or reloads the answer, which sends it again)
    first = client.post("/admin/tokens/", data)
    again = client.post("/admin/tokens/", data, follow=True)
    # then one token is authorised — no second one waiting for the holder — and the second
    # send is told so; neither answer holds a token's text
    assert first.status_code == 302 and first["Location"] == "/admin/tokens/"
    assert ApiToken.objects.filter(name="12345热线").count() == 1
    html = again.content.decode()
    assert "这份表单已经提交过，未再次办理" in html and '<code class="token">' not in html


def test_a_clerk_cannot_open_the_token_page(jianan):
    client = Client()
    client.force_login(jianan.member("clerk").user)
    assert client.get("/admin/tokens/").status_code == 403


def test_the_command_line_creates_lists_and_revokes(jianan):
    out = StringIO()
    call_command("tokens", "create", "--membership", str(jianan.member("clerk").pk),
                 "--name", "12345热线", "--scope", "read", "--scope", "intake", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert bearer(raw).get("/api/cases/").status_code == 200
    token = ApiToken.objects.get()
    listing = StringIO()
    call_command("tokens", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and raw not in listing.getvalue()
    call_command("tokens", "revoke", str(token.pk), stdout=StringIO())
    assert bearer(raw).get("/api/cases/").status_code == 401
    entry = AuditEntry.objects.filter(object_type="api_token").order_by("pk").first()
    assert entry.actor_name.startswith("命令行")


def test_the_session_still_works_for_the_ui(jianan):
    walk(jianan, "registered")
    client = Client()
    client.force_login(jianan.member("clerk").user)
    assert client.get("/api/cases/").json()["count"] == 1
