"""The bell in the header: how many notices this membership has not opened. Worked out only when
a page renders it, once per request, in one COUNT query that stops at the bell's cap."""

from __future__ import annotations

from functools import cached_property

from xinfang.org.choices import ADMIN_ROLES

from .selectors import unread_count

BELL_CAP = 100  # the bell counts to 99, then shows "99+"


class Bell:
    def __init__(self, request):
        self._request = request

    @cached_property
    def membership(self):
        request = self._request
        m = getattr(request, "membership", None)
        if m is None and getattr(request, "user", None) is not None and \
                request.user.is_authenticated:
            from xinfang.web.context import current_membership

            m = current_membership(request)
        return m if m is not None and m.role not in ADMIN_ROLES else None

    @property
    def shown(self) -> bool:
        return self.membership is not None

    @cached_property
    def unread(self) -> int:
        if self.membership is None:
            return 0
        return unread_count(self.membership, cap=BELL_CAP)

    @property
    def label(self) -> str:
        """What the bell shows: the number, or "99+" past it."""
        return f"{BELL_CAP - 1}+" if self.unread >= BELL_CAP else str(self.unread)


def inbox(request) -> dict:
    bell = getattr(request, "_xinfang_bell", None)
    if bell is None:
        bell = request._xinfang_bell = Bell(request)
    return {"bell": bell}
