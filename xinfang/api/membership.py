"""Which membership a request acts as.

A user may hold several memberships (a role in a unit each); every API call acts as exactly one:
the one named by the ``X-Membership`` header (its id), or else the user's first active
membership; a request with an integration token (``xinfang.integrations.auth``) acts as the
token's membership only.
A header naming a membership that is not the user's own, or not active, is refused — never
silently replaced by another one, so a client cannot act in a role it did not ask for.
"""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from xinfang.cases.selectors import door_remember
from xinfang.integrations.auth import check_scope, token_of
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import Membership, User

HEADER = "X-Membership"
_MAX_ID = 2**63 - 1


def parse_id(raw: str | None) -> int | None:
    """A positive database id from untrusted text, or None: ASCII digits only, in bigint range."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 19 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= _MAX_ID else None


def membership_of(user: User, membership_id: int | None = None) -> Membership | None:
    """The user's active membership with this id, or the first active one when no id is given.

    ``user`` is the row this request (or command) has just read: its ``is_active`` is current,
    and the membership is given it rather than a second copy joined in (a fifth of the read's
    CPU)."""
    if not user.is_active:
        return None
    found = next(iter(user.memberships_active(membership_id)), None)
    if found is not None:
        found.user = user
    return found


def acting_membership(request) -> Membership:
    """The membership this request acts as; raises 403 when there is none. Cached per request."""
    cached = getattr(request, "_xinfang_membership", None)
    if cached is not None:
        return cached
    user = request.user
    if not user or not user.is_authenticated:
        raise NotAuthenticated()
    raw = request.headers.get(HEADER)
    token = token_of(request)
    if token is not None:
        # A token acts as its own membership only, within its scopes.
        membership = token.membership
        if raw is not None and parse_id(raw) != membership.pk:
            raise PermissionDenied(f"{HEADER} 与令牌绑定的任职不符。")
        check_scope(request, token)
    elif raw is not None:
        membership_id = parse_id(raw)
        membership = membership_of(user, membership_id) if membership_id else None
        if membership is None:
            raise PermissionDenied(f"{HEADER} 须为您本人的有效任职编号。")
    else:
        # A signed-in browser acts as the membership chosen in the web session (the same key the
        # web app keeps), so a plain export link exports what the page showed.
        chosen = request.session.get("membership_id") if hasattr(request, "session") else None
        membership = membership_of(user, parse_id(str(chosen))) if chosen else None
        if membership is None and chosen and request.method not in SAFE_METHODS:
            # as on the pages (``web.context._lapsed``): not carried out in another role
            raise PermissionDenied("您在网页上选择的任职已被撤销，本次提交未办理；请刷新页面。")
        membership = membership or membership_of(user)
        if membership is None:
            raise PermissionDenied("您没有有效任职，不能办理信访件。")
    door_remember(membership)  # the permission door, worked out once for this request
    request._xinfang_membership = membership
    return membership


class CaseAccess(BasePermission):
    """Case endpoints: an authenticated user acting as a membership that may handle cases. The
    three separated administrators (三员分立) never read or touch a case."""

    message = "系统管理员、安全管理员和审计管理员不能查看或办理信访件（三员分立）。"

    def has_permission(self, request, view) -> bool:
        return acting_membership(request).role not in ADMIN_ROLES
