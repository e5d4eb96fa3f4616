"""The bell's count (on every page) runs a statement built once per distinct door, role, unit
and cap (``notify.selectors._capped_statement``): it must count what the inbox shows, for each
membership its own, and follow a recusal declared since the statement was kept."""

from __future__ import annotations

import pytest

from tests.conftest import register_in, sh
from tests.web.conftest import ADMINS, MEMBERS, walk
from xinfang.cases.selectors import door_for, door_remember
from xinfang.cases.services.supervision import sweep
from xinfang.notify.selectors import inbox, unread_count
from xinfang.org.models import Membership
from xinfang.security.models import Recusal

pytestmark = pytest.mark.django_db


def fresh(m: Membership, *, recusals_read: bool) -> Membership:
    """``m`` as a new request sees it: read again, its door worked out; ``recusals_read``: a
    list on the page read the user's recusals first (the bell's statement then differs)."""
    m = Membership.objects.select_related("unit", "unit__parent").get(pk=m.pk)
    door_remember(m)
    if recusals_read:
        door_for(m).recused_cases  # noqa: B018 — reads them
    return m


@pytest.mark.parametrize("recusals_read", [False, True])
def test_the_bell_counts_what_the_inbox_shows_unread_for_every_member(jianan, recusals_read):
    j = jianan
    walk(j, register_in(j), "assigned")
    walk(j, register_in(j), "signed_off")
    sweep(at=sh(2027, 6, 1, 9))
    counts = {}
    for key in MEMBERS:
        m = fresh(j.member(key), recusals_read=recusals_read)
        shown = inbox(m, show="unread").count()
        assert unread_count(m, cap=100) == shown, key
        assert unread_count(m, cap=2) == min(shown, 2), key
        counts[key] = shown
    assert all(counts[k] == 0 for k in ADMINS)
    # not one number for everybody: members of different units and roles count differently
    assert len({counts[k] for k in MEMBERS if k not in ADMINS}) > 1, counts


@pytest.mark.parametrize("recusals_read", [False, True])
def test_a_recusal_declared_after_the_bell_was_counted_lowers_it(jianan, recusals_read):
    j = jianan
    case = walk(j, register_in(j), "assigned")
    township = j.member("township")
    assert unread_count(fresh(township, recusals_read=recusals_read), cap=100) == 1
    Recusal.objects.create(user=township.user, case=case, reason="亲属",
                           declared_at=sh(2026, 9, 20))
    assert unread_count(fresh(township, recusals_read=recusals_read), cap=100) == 0
    # the other township member (same unit, no recusal) still counts it
    assert unread_count(fresh(j.member("township_head"), recusals_read=recusals_read),
                        cap=100) == inbox(j.member("township_head"), show="unread").count()
