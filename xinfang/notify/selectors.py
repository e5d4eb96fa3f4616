"""Reading the inbox. Every read goes through the permission door (``cases.selectors``) at read
time: a notice about a case the user may not see now (a recusal declared since, a respondent
unit, a case transferred away) is not shown, whatever it was addressed to."""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from xinfang.cases.probes import named
from xinfang.cases.selectors import DOOR_ATTR, OFFICE_READERS, Door, door_for, visible_case
from xinfang.db.written import Written
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import Membership

from .models import Notice, NoticeState


def _sent_to_units(m: Membership) -> tuple[int, ...]:
    if m.role in OFFICE_READERS:
        # Office notices are addressed to the jurisdiction (the county), while its clerks sit in
        # the office under it: any unit at or above the user's own, the door keeping only the
        # cases of the user's own jurisdiction.
        return tuple(door_for(m).inside or (m.unit_id,))
    return (m.unit_id,)


def _sent_to(m: Membership) -> Q:
    """The notices addressed to ``m``'s unit (or jurisdiction) and role, or to every role there,
    whatever their case."""
    return Q(named("unit_id", _sent_to_units(m)), Written(F("role"), (m.role, "")))


def addressed_to(m: Membership | None) -> QuerySet[Notice]:
    """The notices addressed to ``m``'s unit (or jurisdiction) and role, or to every role there,
    on cases ``m`` may see now."""
    if m is None or not m.is_active or m.role in ADMIN_ROLES:
        return Notice.objects.none()
    # A practice's notice about no case (xinfang.practices) reaches its unit and role alone; its
    # text never names a person.
    #
    # The door asked per notice of that notice's case (``visible_case``): a unit has few
    # notices beside its cases, so the bell on every page reads neither the unit subtree nor
    # the recusals first, nor every visible case of the county. As an EXISTS under OR,
    # PostgreSQL hashed it the other way: after a province's first sweep a county clerk's bell
    # (6,400 notices) took 160 ms on every page at 1M cases, 1.9 ms asked per notice.
    return Notice.objects.filter(_sent_to(m), Q(visible_case(m)) | Q(case__isnull=True))


def _state(m: Membership):
    return NoticeState.objects.filter(notice=OuterRef("pk"), user_id=m.user_id)


# The newest notices a page's first rows are looked for among, at the least and at the most
# (``_newest``): twice the rows asked, so that a few hidden or dismissed ones leave enough.
WINDOW, MOST_WINDOW = 200, 2000


def inbox(m: Membership | None, *, show: str = "open") -> QuerySet[Notice]:
    """Newest first, each with this user's read/dismissed state. ``show``: ``open`` (not
    dismissed), ``unread``, ``all``."""
    qs = addressed_to(m)
    if m is None or not qs.query.can_filter():
        return qs
    state = _state(m)
    qs = qs.annotate(
        read_at=Subquery(state.values("read_at")[:1]),
        dismissed_at=Subquery(state.values("dismissed_at")[:1]),
        dismiss_reason=Subquery(state.values("reason")[:1]),
    )
    if show == "unread":
        qs = qs.exclude(Exists(state))
    elif show == "open":
        qs = qs.exclude(Exists(state.filter(dismissed_at__isnull=False)))
    return qs.select_related("case", "clock").order_by("-created_at", "-pk")


def inbox_newest(m: Membership | None, *, show: str = "open", upto: int
                 ) -> tuple[QuerySet[Notice], bool]:
    """``inbox`` for a caller that reads ``upto`` rows at most (a page's end, and one more to
    know whether a next page exists), and whether the rows are known to be that many: they are
    looked for among the newest notices sent to the unit and role first (``_newest``), whose
    test counted them already."""
    qs = inbox(m, show=show)
    if m is None or not qs.query.can_filter():
        return qs, False
    return _newest(m, qs, upto)


def _newest(m: Membership, qs: QuerySet[Notice], upto: int) -> tuple[QuerySet[Notice], bool]:
    """``qs`` among the ``2 × upto`` (at least ``WINDOW``) newest notices sent to ``m``'s unit
    and role, when its first ``upto`` rows lie among them — the same rows, since the window
    holds every notice newer than its last, in the same order — else ``qs`` itself; and
    whether ``upto`` rows were found.

    After a province's first sweep an approver's unit holds 13,800 notices. Tested through the
    door each (a one-row subquery: 0.01 ms), then sorted for a page of fifty, they cost the
    inbox 180–260 ms at 1M cases; the window's ids are read off the inbox's index
    (``_newest_sent``) and only its few hundred notices are asked of the door."""
    window = max(2 * upto, WINDOW)
    if window > MOST_WINDOW:  # a page far back: the whole inbox
        return qs, False
    newest = _newest_sent(m, window)
    if len(newest) < window:  # every notice sent to the unit and role: no window needed
        return qs, False
    among = qs.filter(pk__in=newest)
    if among.order_by().values("pk")[:upto].count() == upto:
        return among, True
    return qs, False  # too many hidden or dismissed among the newest: the whole inbox


def _newest_sent(m: Membership, n: int) -> list[int]:
    """The ids of the ``n`` newest notices sent to ``m``'s units and role (``_sent_to``): the
    newest ``n`` of each unit and role, each off the inbox's index in its order, in one
    statement. Asked for all of them at once (units and roles IN lists), the database read the
    unit's every notice to sort them: 16 ms for an approver's 13,800 at 1M cases."""
    alias = router.db_for_read(Notice)
    pairs = [(u, r) for u in _sent_to_units(m) for r in (m.role, "")]
    params = [value for unit, role in pairs for value in (unit, role, n)]
    with connections[alias].cursor() as cursor:
        cursor.execute(_newest_statement(len(pairs)), [*params, n])
        return [pk for _at, pk in cursor.fetchall()]


@lru_cache(maxsize=16)
def _newest_statement(pairs: int) -> str:
    """``_newest_sent``'s text for so many (unit, role) pairs, written once: built through the
    ORM on each request it cost 2.6 ms of CPU (eight querysets compiled). Its parameters are
    each pair's unit, role and limit, then the limit of the whole."""
    part = (f"SELECT * FROM (SELECT created_at, id FROM {Notice._meta.db_table} WHERE "
            "unit_id = %s AND role = %s ORDER BY created_at DESC, id DESC LIMIT %s) xf_n{}")
    return (" UNION ALL ".join(part.format(i) for i in range(pairs))
            + " ORDER BY 1 DESC, 2 DESC LIMIT %s")


def _unread(m: Membership) -> QuerySet[Notice]:
    return addressed_to(m).exclude(Exists(_state(m)))


def unread_count(m: Membership | None, *, cap: int | None = None) -> int:
    """One COUNT: notices of the unit and role, on visible cases, never opened. ``cap``: count
    no further than that (the bell shows "99+"), so the query stops at the cap's row instead of
    visiting every notice a busy unit ever had.

    With a cap (the bell, on every page) the statement is built once per distinct input and
    kept (``_capped_statement``): building and compiling it through the ORM was 1.7 ms of the
    ~9 ms every page costs before it does anything (PERFORMANCE.md, req11)."""
    if m is None or not m.is_active or m.role in ADMIN_ROLES:
        return 0
    if cap is None:
        return _unread(m).count()
    door = door_for(m)
    alias = router.db_for_read(Notice)
    statement = _capped_statement(alias, door.key, m.role, m.unit_id, cap)
    if statement is None:
        return 0
    with connections[alias].cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchone()[0]


@lru_cache(maxsize=1024)
def _capped_statement(alias: str, key: tuple, role: str, unit_id: int, cap: int
                      ) -> tuple[str, tuple] | None:
    """The bell's capped COUNT for a membership in ``role`` at ``unit_id`` whose door has the
    key ``key`` (``Door.key``: a door made again from it, ``Door.of_key``, writes the same
    statements). The text and parameters are a function of these arguments alone — built here
    from them, not from the request's objects — so keeping them cannot show one membership
    another's count. None: the filter can match nothing (no statement, as the ORM would run
    none)."""
    door = Door.of_key(key)
    m = Membership(user_id=door.user_id, unit_id=unit_id, role=role, is_active=True)
    setattr(m, DOOR_ATTR, door)
    inner = _unread(m).order_by().values("pk")[:cap]
    try:
        sql, params = inner.query.get_compiler(alias).as_sql()
    except EmptyResultSet:
        return None
    # What ``QuerySet.count()`` of a sliced query writes: the count over the capped subquery.
    return f"SELECT COUNT(*) FROM ({sql}) xf_bell", tuple(params)


def notice_for(m: Membership | None, pk: int) -> Notice:
    """One notice through the door; raises Notice.DoesNotExist outside it."""
    return addressed_to(m).select_related("case").get(pk=pk)
