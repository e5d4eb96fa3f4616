"""三员分立 for integration tokens: an administrator authorises a token (name, membership, scopes,
expiry) and never sees its text; the holder of the membership collects it (领取), signed in as
themselves, once. Until then it is 待领取 and authenticates nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.api.tokens import bearer
from tests.racing import race
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.integrations.models import ApiToken
from xinfang.integrations.services import (
    digest_of,
    token_authorise,
    token_collect,
    token_revoke,
)
from xinfang.org.models import Membership, User
from xinfang.web.admin_services import membership_revoke, user_set_active

COLLECT = "/account/tokens/{}/collect/"


def signed_in(m) -> Client:
    client = Client()
    client.force_login(m.user)
    session = client.session
    session["membership_id"] = m.pk
    session.save()
    return client


def authorise(j, member="clerk", *scopes, by="secadmin", **kw) -> ApiToken:
    return token_authorise(by=j.member(by), membership=j.member(member),
                           name=kw.pop("name", "12345热线"), scopes=list(scopes or ["read"]), **kw)


def raw_in(html: str) -> str:
    return html.split('<code class="token">')[1].split("</code>")[0]


def test_the_admin_page_authorises_a_token_without_showing_any_token_text(jianan):
    # given the security administrator on the token page
    client = signed_in(jianan.member("secadmin"))
    # when it authorises a read token for the clerk's role
    response = client.post("/admin/tokens/", {
        "t-name": "省信访信息系统", "t-membership": jianan.member("clerk").pk,
        "t-scopes": ["read", "intake"]}, follow=True)
    # then the token is waiting for the clerk, with no text anywhere the administrator sees
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    token = ApiToken.objects.get(name="省信访信息系统")
    assert token.status() == "pending" and token.digest is None and token.collected_at is None
    assert '<code class="token">' not in html and "xf_" not in html
    assert "待领取" in html and "李文静" in html  # whom it waits for, named
    entry = AuditEntry.objects.get(object_type="api_token", detail__change="token_authorise")
    assert entry.actor_id == jianan.member("secadmin").user_id
    assert entry.detail["scopes"] == ["read", "intake"] and "collect_until" in entry.detail


def test_the_holder_collects_the_token_once_from_their_own_page(jianan):
    # given a token authorised for the clerk's role
    token = authorise(jianan, "clerk", "read")
    clerk = signed_in(jianan.member("clerk"))
    # the clerk's own navigation leads to the page, which offers it
    home = clerk.get("/account/tokens/").content.decode()
    assert 'href="/account/tokens/"' in clerk.get("/work/").content.decode()
    assert "12345热线" in home and COLLECT.format(token.pk) in home
    # when the clerk collects it
    response = clerk.post(COLLECT.format(token.pk))
    # then the text is shown this once, never cached, and it works as the clerk's role
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    raw = raw_in(response.content.decode())
    token.refresh_from_db()
    assert token.status() == "active" and token.digest == digest_of(raw)
    assert token.prefix == raw[:10] and token.collected_at is not None
    assert bearer(raw).get("/api/cases/").status_code == 200
    assert raw not in clerk.get("/account/tokens/").content.decode()
    # and a second collection (a reload, another tab) is refused, saying when it was collected
    again = clerk.post(COLLECT.format(token.pk))
    assert again.status_code == 409 and "已领取" in again.content.decode()
    assert '<code class="token">' not in again.content.decode()
    token.refresh_from_db()
    assert token.digest == digest_of(raw)  # the first text still works, no second one made
    # every step audited, the text in none of them
    entries = AuditEntry.objects.filter(object_type="api_token", object_id=str(token.pk))
    assert [e.detail["change"] for e in entries.order_by("pk")] == [
        "token_authorise", "token_collect"]
    collect = entries.get(detail__change="token_collect")
    assert collect.actor_id == jianan.member("clerk").user_id
    assert all(raw not in str(e.detail) and raw[10:] not in str(e.detail) for e in entries)


def test_a_pending_token_authenticates_nothing(jianan):
    token = authorise(jianan, "clerk", "read")
    assert ApiToken.objects.get(pk=token.pk).digest is None
    # no text exists to present; the empty digest and a guessed prefix are no key either
    assert bearer("xf_").get("/api/cases/").status_code == 401
    assert bearer(f"xf_{token.pk}").get("/api/cases/").status_code == 401


@pytest.mark.parametrize("who", ["secadmin", "sysadmin", "approver", "chief"])
def test_nobody_but_the_holder_collects(jianan, who):
    # given the clerk's pending token, and someone else sending its collection (a tampered id)
    token = authorise(jianan, "clerk", "read")
    response = signed_in(jianan.member(who)).post(COLLECT.format(token.pk))
    # then it is not theirs to collect, and nothing is made
    assert response.status_code in (403, 404)
    with pytest.raises(Refused, match="本人"):
        token_collect(by=jianan.member(who).user, token=token)
    token.refresh_from_db()
    assert token.status() == "pending" and token.digest is None


def test_the_holders_page_lists_only_their_own_tokens(jianan):
    authorise(jianan, "clerk", "read", name="给经办人的")
    authorise(jianan, "approver", "read", name="给分管领导的")
    html = signed_in(jianan.member("clerk")).get("/account/tokens/").content.decode()
    assert "给经办人的" in html and "给分管领导的" not in html


def test_an_authorisation_not_collected_in_time_lapses(jianan, settings):
    # given a token authorised under a 7-day collection limit
    settings.XINFANG_TOKEN_COLLECT_DAYS = 7
    token = authorise(jianan, "clerk", "read")
    assert token.collect_until - token.created_at == timedelta(days=7)
    # when the clerk comes for it after the limit
    ApiToken.objects.filter(pk=token.pk).update(
        collect_until=timezone.now() - timedelta(seconds=1))
    response = signed_in(jianan.member("clerk")).post(COLLECT.format(token.pk))
    # then it is refused, telling the clerk to ask for a new one, and the token stays dead
    assert response.status_code == 409
    assert "逾期未领取" in response.content.decode()
    token.refresh_from_db()
    assert token.status() == "lapsed" and token.digest is None
    assert "逾期未领取" in signed_in(jianan.member("secadmin")).get("/admin/tokens/") \
        .content.decode()


def test_a_pending_token_is_revoked_and_cannot_be_collected(jianan):
    token = authorise(jianan, "clerk", "read")
    client = signed_in(jianan.member("secadmin"))
    client.post(f"/admin/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.status() == "revoked"
    response = signed_in(jianan.member("clerk")).post(COLLECT.format(token.pk))
    assert response.status_code == 409 and "已撤销" in response.content.decode()
    assert ApiToken.objects.get(pk=token.pk).digest is None


def _withdraw_role(j):
    membership_revoke(by=j.member("secadmin"), membership=j.member("clerk"))


def _switch_off(j):
    user_set_active(by=j.member("sysadmin"), user=j.member("clerk").user, active=False)


def _deactivate_role_by_hand(j):
    Membership.objects.filter(pk=j.member("clerk").pk).update(is_active=False)


@pytest.mark.parametrize("before", [_withdraw_role, _switch_off, _deactivate_role_by_hand])
def test_a_role_withdrawn_or_an_account_switched_off_before_collection_refuses_it(jianan,
                                                                                  before):
    token = authorise(jianan, "clerk", "read")
    before(jianan)
    with pytest.raises(Refused, match="已停用|已撤销"):
        token_collect(by=User.objects.get(pk=jianan.member("clerk").user_id), token=token)
    token.refresh_from_db()
    assert token.digest is None and token.status() != "active"


def test_a_collection_refused_loses_nothing_and_a_retry_after_is_refused_too(jianan):
    token = authorise(jianan, "clerk", "read")
    holder = jianan.member("clerk").user
    _, raw = token_collect(by=holder, token=token)
    with pytest.raises(Refused, match="已领取"):
        token_collect(by=holder, token=ApiToken.objects.get(pk=token.pk))
    assert bearer(raw).get("/api/cases/").status_code == 200


def test_the_admin_page_offers_revoking_a_pending_token_and_names_its_holder(jianan):
    token = authorise(jianan, "clerk", "read")
    html = signed_in(jianan.member("sysadmin")).get("/admin/tokens/").content.decode()
    assert f"/admin/tokens/{token.pk}/revoke/" in html and "待领取" in html


def test_the_command_line_still_makes_a_collected_token_for_its_operator(jianan):
    # The operator holds the server's keys anyway: the command line prints the token it makes.
    from xinfang.integrations.services import token_create

    token, raw = token_create(membership=jianan.member("clerk"), name="运维令牌", scopes=["read"],
                              actor_name="命令行（root）")
    assert token.status() == "active" and token.collected_at == token.created_at
    assert bearer(raw).get("/api/cases/").status_code == 200
    entry = AuditEntry.objects.get(object_type="api_token", object_id=str(token.pk))
    assert entry.detail["change"] == "token_create" and raw not in str(entry.detail)


@pytest.mark.django_db(transaction=True)
def test_a_token_made_before_collection_existed_stays_valid_after_the_migration(jianan):
    # given a token row as the first migration stored it: made and shown at once
    from django.db.migrations.executor import MigrationExecutor

    before = [("integrations", "0001_initial")]
    raw = "xf_" + "a" * 43
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        Old = executor.loader.project_state(before).apps.get_model("integrations", "ApiToken")
        made = timezone.now() - timedelta(days=30)
        old = Old.objects.create(name="旧令牌", membership_id=jianan.member("clerk").pk,
                                 scopes=["read"], prefix=raw[:10], digest=digest_of(raw),
                                 created_at=made, created_by_name="安全管理员")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    # then it is collected as of when it was made, and still authenticates
    token = ApiToken.objects.get(pk=old.pk)
    assert token.collected_at == made and token.status() == "active"
    assert bearer(raw).get("/api/cases/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)")
def test_two_tabs_collecting_at_once_make_one_token(jianan):
    # given the clerk's pending token, open in two tabs
    token = authorise(jianan, "clerk", "read")
    holder = jianan.member("clerk").user

    def collect():
        return token_collect(by=User.objects.get(pk=holder.pk),
                             token=ApiToken.objects.get(pk=token.pk))

    # when both tabs send 领取 at the same instant
    out = race(collect, collect)
    # then the second waited for the first and was refused; one text exists, and it works
    assert out["second_waited"]
    assert isinstance(out["second"], Refused) and "已领取" in str(out["second"])
    _, raw = out["first"]
    assert ApiToken.objects.get(pk=token.pk).digest == digest_of(raw)
    assert bearer(raw).get("/api/cases/").status_code == 200
    assert AuditEntry.objects.filter(detail__change="token_collect").count() == 1


def test_revoking_a_collected_token_still_works(jianan):
    token = authorise(jianan, "clerk", "read")
    _, raw = token_collect(by=jianan.member("clerk").user, token=token)
    token_revoke(by=jianan.member("sysadmin"), token=token)
    assert bearer(raw).get("/api/cases/").status_code == 401
