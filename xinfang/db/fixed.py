"""Statements whose text never changes but for one key, compiled by the ORM once a database.

Every page asks a few statements of this shape on every request: the signed-in user's active
memberships (``org.backends``), a case's documents, demands, clocks and the other rows the case
page and the API's detail show (``cases.related``), the door's recusals, the newest version of
a profile. For a few rows, compiling the queryset and building its rows through the queryset's
machinery costs several times the statement: at 1M cases on PostgreSQL a case's four small
relations took 0.93 ms to compile against 0.24 ms to run.

``FixedRead(make)`` compiles ``make(PROBE)`` once for each database and runs its SQL with the key
(an id; a text with ``text=True``) put in the probe's place, making the same instances the
queryset makes (its ``select_related`` included), or the same tuples for a ``values_list()``,
each column converted as the queryset converts it. Only the probe varies: every other parameter
of the statement is a constant of ``make``, so nothing a request sends can reach the compiled
text. A queryset that names the probe other than once, or that selects anything but its models'
columns or plain ``values_list()`` fields (annotations, ``values()``, ``flat``, ``named``), is
refused when it is first compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init

# The key a statement is compiled with, to find its place among the parameters: no real id is
# negative, and no code or name of ours looks like the text.
PROBE = -7_318_004_211
TEXT_PROBE = "xf-fixed-read-probe-7318004211"


@dataclass(frozen=True)
class _Model:
    """One model's columns of the row and how it hangs on the instance above it."""

    model: type[Model]
    columns: tuple[int, ...]
    attnames: tuple[str, ...]
    key: int  # the primary key's column: None in an outer join's missing row
    set_on: Callable | None  # ``local_setter(above, this)`` of the queryset's select_related
    set_back: Callable | None  # ``remote_setter(this, above)``: a one-to-one's reverse cache
    below: tuple[_Model, ...]


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple
    at: int  # the id's place among ``params``
    top: _Model | None  # None: ``values_list()``'s tuples
    converters: tuple[tuple[int, tuple, object], ...]  # (column, converters, expression)


@dataclass(frozen=True)
class Shape:
    """A queryset's statement as the ORM writes it for one database, and the layout of its row
    (the queryset's own ``klass_info``): what ``ModelIterable`` would build from it."""

    sql: str
    params: tuple
    width: int  # columns selected
    top: _Model | None  # None: ``values_list()``'s tuples
    converters: tuple[tuple[int, tuple, object], ...]  # (column, converters, expression)
    annotations: tuple[tuple[str, int], ...]  # (name, column): set on the instance
    order: tuple  # the ``OrderBy`` expressions and their compiled text
    outputs: tuple  # each column's expression (its ``output_field``)


def shape(qs: QuerySet, alias: str, *, annotated: bool = False) -> Shape:
    """``qs``'s statement for ``alias`` with its row's layout and its columns' converters.
    Only its models' columns (or ``values_list()``'s fields) are selected; with ``annotated``, a
    model queryset's annotations too (set on each instance as the queryset sets them).
    ``EmptyResultSet`` when the statement could return nothing."""
    compiler = qs.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    kind = qs._iterable_class.__name__
    annotations = qs.query.annotations or (kind == "ModelIterable" and compiler.annotation_col_map)
    if (kind not in ("ModelIterable", "ValuesListIterable") or compiler.has_extra_select
            or qs.query.extra_select
            or (annotations and not (annotated and kind == "ModelIterable"))):
        raise ValueError(f"{qs.model.__name__}: a fixed read selects its models' columns, or "
                         "values_list()'s, only")
    select = compiler.select
    converters = compiler.get_converters([expression for expression, *_rest in select])
    converters = tuple((i, tuple(funcs), expression)
                       for i, (funcs, expression) in sorted(converters.items()))
    outputs = tuple(expression for expression, *_rest in select)
    order = tuple(compiler.get_order_by())
    if kind == "ValuesListIterable":
        return Shape(sql, tuple(params), len(select), None, converters, (), order, outputs)

    def layout(info: dict) -> _Model:
        if info.get("from_parent"):
            raise ValueError(f"{info['model'].__name__}: a fixed read of an inherited model")
        columns = tuple(info["select_fields"])
        attnames = tuple(select[i][0].target.attname for i in columns)
        return _Model(info["model"], columns, attnames,
                      columns[attnames.index(info["model"]._meta.pk.attname)],
                      info.get("local_setter"), info.get("remote_setter"),
                      tuple(layout(below) for below in info.get("related_klass_infos", ())))

    return Shape(sql, tuple(params), len(select), layout(compiler.klass_info), converters,
                 tuple(compiler.annotation_col_map.items()), order, outputs)


def _compile(qs: QuerySet, alias: str, probe) -> _Statement:
    """The statement as the ORM writes ``qs`` for ``alias``, with the key's place in it."""
    try:
        found = shape(qs, alias)
    except EmptyResultSet:  # the probe out of a field's range (a positive integer's, say)
        raise ValueError(f"{qs.model.__name__}: a fixed read's id goes where no negative "
                         "number is asked") from None
    if list(found.params).count(probe) != 1:
        raise ValueError(f"{qs.model.__name__}: a fixed read names its key once, not "
                         f"{list(found.params).count(probe)} times")
    return _Statement(found.sql, found.params, list(found.params).index(probe), found.top,
                      found.converters)


def convert(row, converters, connection, offset: int = 0) -> list:
    """``row`` with each column converted as the queryset converts it (``offset``: where the
    queryset's columns begin in ``row``)."""
    row = list(row)
    for i, funcs, expression in converters:
        for func in funcs:
            row[offset + i] = func(row[offset + i], expression, connection)
    return row


@cache
def _plain_model(model: type[Model]) -> bool:
    """Whether ``model``'s instances may be built without ``Model.__init__`` (``built``):
    no ``from_db`` of its own, and no field whose attribute does more on setting than a
    foreign key's id does on a new instance (set it)."""
    if model.from_db.__func__ is not Model.from_db.__func__:
        return False
    for field in model._meta.concrete_fields:
        for klass in model.__mro__:
            found = klass.__dict__.get(field.attname)
            if found is not None:
                kind = type(found)
                if hasattr(kind, "__set__") and kind is not ForeignKeyDeferredAttribute:
                    return False
                break
    return True


def built(model: type[Model], alias: str, attnames: tuple[str, ...], values: list) -> Model:
    """``model.from_db(alias, attnames, values)``: the instance a queryset builds of a row of
    some of its columns, the rest deferred. ``Model.__init__`` walks every field to mark those
    not read deferred: 17.7 µs a case of 56 fields read for a list's 13 columns, 0.9 µs here,
    where the columns read go into the instance's attributes and the rest are deferred by
    their absence, as there (lead43). A model whose building does more (``_plain_model``), or
    whose instances' init signals have a receiver, goes through ``from_db``."""
    if not _plain_model(model) or (pre_init.receivers or post_init.receivers) and (
            pre_init.has_listeners(model) or post_init.has_listeners(model)):
        return model.from_db(alias, attnames, values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding, state.db = False, alias
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj


def instance(spec: _Model, row: list, alias: str, offset: int = 0):
    """The instance ``spec`` lays out in ``row`` (its columns from ``offset``), with the rows
    joined to it, as ``ModelIterable`` builds it."""
    if row[offset + spec.key] is None:
        return None  # an outer join's missing row (a unit without a parent)
    obj = built(spec.model, alias, spec.attnames, [row[offset + i] for i in spec.columns])
    for below in spec.below:
        related = instance(below, row, alias, offset)
        below.set_on(obj, related)
        if related is not None and below.set_back is not None:
            below.set_back(related, obj)
    return obj


def annotated(head: Shape, row: list, alias: str):
    """The instance ``head`` lays out in ``row`` (converted already), with its annotations set,
    as ``ModelIterable`` sets them."""
    obj = instance(head.top, row, alias)
    for name, column in head.annotations:
        setattr(obj, name, row[column])
    return obj


def read_shape(head: Shape, params, *, using: str) -> list:
    """The instances of ``head``'s statement (compiled with ``annotated``) run with ``params``."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(head.sql, list(params))
        rows = cursor.fetchall()
    return [annotated(head, convert(row, head.converters, connection), using) for row in rows]


class FixedRead:
    """``make(key)``'s rows, for any key (an id; a string with ``text``), from one compilation
    a database (see the module)."""

    def __init__(self, make: Callable[[int], QuerySet], *, text: bool = False):
        self.make = make
        self.probe = TEXT_PROBE if text else PROBE  # ``text``: the key is a string
        self._compiled: dict[str, _Statement] = {}

    @cached_property
    def model(self) -> type[Model]:
        return self.make(self.probe).model

    def statement(self, alias: str) -> _Statement:
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = _compile(
                self.make(self.probe).using(alias), alias, self.probe)
        return compiled

    def of(self, instance: Model) -> list:
        """The rows keyed by ``instance``'s id, from the database its related managers read
        (``router.db_for_read`` with the instance as hint, as ``prefetch_related`` chooses)."""
        return self(instance.pk, using=router.db_for_read(self.model, instance=instance))

    def __call__(self, key, *, using: str | None = None) -> list:
        """The rows for ``key``, from ``using`` (by default where the router reads the model)."""
        using = using or router.db_for_read(self.model)
        read = self.statement(using)
        params = list(read.params)
        # as the ORM would prepare it: an id given as text ("12") is sent as a number
        params[read.at] = str(key) if self.probe == TEXT_PROBE else int(key)
        return run_read(read, params, using)


def run_read(read: _Statement | _Many, params: list, using: str) -> list:
    """``read``'s statement run with ``params`` on ``using``: its rows as the queryset makes
    them (instances, or ``values_list()``'s tuples), each column converted."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(read.sql, params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        if read.converters:
            row = convert(row, read.converters, connection)
        out.append(tuple(row) if read.top is None else instance(read.top, row, using))
    return out


# A list of ids is compiled for each of its lengths up to here (a page's fifty rows, a queue's
# bucket heads); a longer one is read through the queryset as it is.
MANY_MOST = 64


@dataclass(frozen=True)
class _Many:
    sql: str
    params: tuple
    at: tuple[int, ...]  # each id's place among ``params``, in the order the ids are given
    top: _Model | None
    converters: tuple[tuple[int, tuple, object], ...]


class ManyRead:
    """``make(ids)``'s rows for a list of ids (``field__in=ids``), compiled once for each
    database and number of ids (up to ``MANY_MOST``), as ``FixedRead`` compiles one key: a list
    page reads its rows' petitioners, clocks and demands by the page's ids, and building and
    compiling those three querysets cost more than running them (lead41). Distinct negative
    probes stand for the ids; every other parameter is a constant of ``make``."""

    def __init__(self, make: Callable[[list[int]], QuerySet]):
        self.make = make
        self._compiled: dict[tuple[str, int], _Many] = {}

    @cached_property
    def model(self) -> type[Model]:
        return self.make([PROBE]).model

    def statement(self, alias: str, n: int) -> _Many:
        compiled = self._compiled.get((alias, n))
        if compiled is None:
            probes = [PROBE - i for i in range(n)]
            found = shape(self.make(probes).using(alias), alias)
            params = list(found.params)
            if any(params.count(p) != 1 for p in probes):
                raise ValueError(f"{self.model.__name__}: a read of many ids names each once")
            compiled = self._compiled[(alias, n)] = _Many(
                found.sql, found.params, tuple(params.index(p) for p in probes), found.top,
                found.converters)
        return compiled

    def __call__(self, ids, *, using: str | None = None) -> list:
        """The rows for ``ids`` (their order does not matter; each is asked once)."""
        ids = list(dict.fromkeys(int(i) for i in ids))
        using = using or router.db_for_read(self.model)
        if not ids:
            return []
        if len(ids) > MANY_MOST:
            return list(self.make(ids).using(using))
        read = self.statement(using, len(ids))
        params = list(read.params)
        for at, key in zip(read.at, ids, strict=True):
            params[at] = key
        return run_read(read, params, using)


class TreeRead:
    """``make(*args)``'s rows (a read under a unit's path: ``org.models.Under``), compiled once
    for each database and arguments. PostgreSQL is given the path written into the statement's
    text, not bound (a kept plan could not read a pattern it does not know off the index), so
    no probe can stand for it: the whole statement is kept per path. The arguments come from
    the unit tree (a path, an id) or the code (a bound), never from a request; whatever the
    statement is made of is among them. At most ``kept`` statements are kept. A county's
    ledger read its door's subtree and its filter bar's places this way on every page:
    compiling each cost about as much as running it (0.6 ms at 1M, lead42)."""

    def __init__(self, model: type[Model], make: Callable[..., QuerySet], *, kept: int = 256):
        self.model, self.make = model, make
        self.statement = lru_cache(maxsize=kept)(self._compile)

    def _compile(self, alias: str, *args) -> Shape:
        return shape(self.make(*args).using(alias), alias)

    def __call__(self, *args, using: str | None = None) -> list:
        using = using or router.db_for_read(self.model)
        read = self.statement(using, *args)
        return run_read(read, list(read.params), using)
