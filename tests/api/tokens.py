"""Helpers: a token for a member, and a client that presents it (no session, no cookie)."""

from __future__ import annotations

from rest_framework.test import APIClient

from xinfang.integrations.services import token_create


def token_for(j, member: str, *scopes: str, **kw) -> tuple[object, str]:
    return token_create(by=j.member("secadmin"), membership=j.member(member),
                        name=kw.pop("name", "12345热线"), scopes=list(scopes), **kw)


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
