"""Helpers: a token for a member — authorised by the security administrator, collected by the
member — and a client that presents it (no session, no cookie)."""

from __future__ import annotations

from rest_framework.test import APIClient

from xinfang.integrations.services import token_authorise, token_collect


def token_for(j, member: str, *scopes: str, **kw) -> tuple[object, str]:
    token = token_authorise(by=j.member("secadmin"), membership=j.member(member),
                            name=kw.pop("name", "12345热线"), scopes=list(scopes), **kw)
    return token_collect(by=j.member(member).user, token=token)


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
