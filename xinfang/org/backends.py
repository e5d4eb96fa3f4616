"""The sign-in backend: Django's ``ModelBackend``, reading a signed-in user on each request
together with their active memberships.

Every page and API call of a signed-in user reads the user (``django.contrib.auth.get_user``)
and then the membership it acts as (``User.memberships_active``): two statements where one does,
the memberships with their user joined in. A user without an active membership is read alone,
as before.

That one statement is compiled by the ORM once a database (``_members_read``) and run with the
user's id each request, its rows made into the same instances the queryset makes: compiling the
four joined models and building them through the queryset cost 0.7–0.8 ms a request of the
statement's 0.07 (SQLite) to 0.34 (PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter

from django.contrib.auth.backends import ModelBackend
from django.db import connections, router

from .models import ACTIVE_MEMBERSHIPS, Membership

# The user id the statement is compiled with, to find its place among the parameters: no real
# id is negative.
_PROBE = -7_318_004_211


@dataclass(frozen=True)
class _Model:
    """One model's columns of the row and how it hangs on the instance above it."""

    model: type
    columns: tuple[int, ...]
    attnames: tuple[str, ...]
    key: int  # the primary key's column: None in an outer join's missing row
    set_on: object  # ``local_setter(above, this)`` of the queryset's select_related, or None
    below: tuple[_Model, ...]


@dataclass(frozen=True)
class _Read:
    sql: str
    params: tuple
    at: int  # the user id's place among ``params``
    top: _Model
    converters: tuple[tuple[int, tuple, object], ...]  # (column, converters, expression)


def _members_queryset(user_id, alias: str):
    return (Membership.objects.using(alias).filter(user_id=user_id, is_active=True)
            .select_related("user", "unit", "unit__parent"))


@lru_cache(maxsize=8)
def _members_read(alias: str) -> _Read:
    """The active memberships' statement as the ORM writes it for ``alias``, with the layout
    of its row (the queryset's own ``klass_info``) and its columns' converters."""
    compiler = _members_queryset(_PROBE, alias).query.get_compiler(alias)
    sql, params = compiler.as_sql()
    if list(params).count(_PROBE) != 1:
        raise RuntimeError("the memberships' statement names the user other than once")
    select = compiler.select

    def layout(info: dict) -> _Model:
        columns = tuple(info["select_fields"])
        attnames = tuple(select[i][0].target.attname for i in columns)
        return _Model(info["model"], columns, attnames,
                      columns[attnames.index(info["model"]._meta.pk.attname)],
                      info.get("local_setter"),
                      tuple(layout(below) for below in info.get("related_klass_infos", ())))

    converters = compiler.get_converters([expression for expression, *_rest in select])
    return _Read(sql, tuple(params), list(params).index(_PROBE), layout(compiler.klass_info),
                 tuple((i, tuple(funcs), expression)
                       for i, (funcs, expression) in sorted(converters.items())))


def _instance(spec: _Model, row: list, alias: str):
    if row[spec.key] is None:
        return None  # an outer join's missing row (a unit without a parent)
    obj = spec.model.from_db(alias, spec.attnames, [row[i] for i in spec.columns])
    for below in spec.below:
        below.set_on(obj, _instance(below, row, alias))
    return obj


def active_memberships(user_id: int) -> list[Membership]:
    """The user's active memberships by id, each with its user, unit and the unit's parent:
    what ``_members_queryset(user_id)`` gives, in one statement compiled once."""
    alias = router.db_for_read(Membership)
    read = _members_read(alias)
    params = list(read.params)
    params[read.at] = user_id
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(read.sql, params)
        rows = cursor.fetchall()
    members = []
    for row in rows:
        row = list(row)
        for i, funcs, expression in read.converters:
            for convert in funcs:
                row[i] = convert(row[i], expression, connection)
        members.append(_instance(read.top, row, alias))
    return sorted(members, key=attrgetter("pk"))


class MembershipBackend(ModelBackend):
    def get_user(self, user_id):
        members = active_memberships(user_id)
        if not members:
            return super().get_user(user_id)
        user = members[0].user
        for m in members:
            m.user = user
        setattr(user, ACTIVE_MEMBERSHIPS, members)
        return user if self.user_can_authenticate(user) else None
