"""Bearer tokens on the API, and what each scope lets a token do.

``Authorization: Bearer xf_…`` authenticates as the token's membership's user, and the request
then acts as that membership and no other (``xinfang.api.membership.acting_membership``): the
same permission door a person in that role goes through, narrowed further by the token's
scopes. A browser keeps its session; the two never mix (a token request carries no cookie, so
no CSRF check applies, and a session request carries no token).

Scopes, checked for every token request by ``check_scope`` (deny unless named here):

- ``read`` — any GET (lists, a case, its actions and documents, jobs, the schema);
- ``register`` — POST /api/cases/ (any registration the membership may make);
- ``intake`` — POST /api/cases/ for a referral only (``channel`` = referral, idempotent on the
  sender's reference) — what a hotline or the provincial system needs and no more;
- ``transition`` — POST /api/cases/{id}/transitions/…;
anything else (starting jobs, correcting documents) is for people signed in, not for tokens.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import BasePermission

from .models import ApiToken, Scope
from .services import token_authenticate

KEYWORDS = (b"bearer", b"token")

# url name → scopes that allow a POST to it
WRITE_SCOPES = {
    "case-list": {Scope.REGISTER, Scope.INTAKE},
    "case-transition": {Scope.TRANSITION},
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Authorization 头的格式应为：Bearer <令牌>。")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("令牌无效、已过期或已撤销。") from None
        token = token_authenticate(raw)
        if token is None:
            raise AuthenticationFailed("令牌无效、已过期或已撤销。")
        return token.membership.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="xinfang"'


def token_of(request) -> ApiToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None


def check_scope(request, token: ApiToken) -> None:
    """Refuse (403) what the token's scopes do not cover."""
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match else ""
    if request.method in SAFE_METHODS:
        needed = {Scope.READ}
    else:
        base = url_name.split(":")[-1]
        if base.startswith("case-transition"):
            base = "case-transition"
        needed = WRITE_SCOPES.get(base, set())
    if not needed:
        raise PermissionDenied("此操作不能用接口令牌办理，须由工作人员登录后办理。")
    if not needed & set(token.scopes):
        allowed = "或".join(str(Scope(s).label) for s in sorted(needed))
        raise PermissionDenied(f"此令牌的权限范围不包括此操作（需要：{allowed}）。")


class TokenScope(BasePermission):
    """The scopes of a token on a view that acts as no membership (the schema and its docs
    page), where ``acting_membership`` — which checks them everywhere else — is not asked."""

    def has_permission(self, request, view) -> bool:
        token = token_of(request)
        if token is not None:
            check_scope(request, token)
        return True


def may_register_any(request) -> bool:
    """A token with only the intake scope registers referrals only; people and ``register``
    tokens register anything their role allows."""
    token = token_of(request)
    return token is None or Scope.REGISTER in token.scopes


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema (``components.securitySchemes``)."""

    target_class = BearerTokenAuthentication
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "xf_…",
                "description": "接口令牌（系统管理员或安全管理员授权，"
                               "由所绑定任职的本人登录后在“我的令牌”页面领取）"}
