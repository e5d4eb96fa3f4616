"""One row admitted by a query, and the rows that hang on it, read in one statement.

The API's detail of a case is the case through the permission door and six of its relations:
eight statements with its township and village, each a round trip to the database and a turn
of the driver, where issue 9 asks a transition with its answer to take at most eight in all.
``Together`` reads the first queryset (the door's, compiled for this request) and any number of
fixed parts keyed by one id (``db.fixed``: compiled once a database) as one ``UNION ALL``::

    WITH g(c0, …) AS (<the first queryset>), p1(c0, …) AS (<part 1>), …
    SELECT 0, g.c0, g.c1, … FROM g
    UNION ALL SELECT 1, p1.c0, NULL, p1.c1, … FROM p1 WHERE EXISTS (SELECT 1 FROM g)
    …

Each part keeps its own statement, as the ORM wrote it; its columns take places in the row that
the other parts share (on PostgreSQL only a place of the column's type), and the rest of the row
is NULL. So every value comes back as the part's own statement returns it and is converted by
the part's own converters: the instances are the ones its queryset builds (tested field by
field). A part is read only when the first queryset admits its row (``EXISTS`` on it), so a
case the door refuses has none of its rows read.

A ``UNION ALL`` keeps no order: each part's rows are put in its queryset's order here, NULLs
where its database puts them. That order may be on the part's own columns of numbers, times and
truth values only (a text's order is the database's collation); anything else is refused when
the part is compiled. Numbering the rows in SQL instead (``ROW_NUMBER() OVER (ORDER BY …)``)
made SQLite's statement three times slower than the eight it replaces.

PostgreSQL types a ``UNION``'s columns pair by pair from the left, so its first branch casts
each NULL to its place's type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import Col, OrderBy

from .fixed import PROBE, Shape, annotated, convert, instance, shape


@dataclass(frozen=True)
class _Part:
    name: str
    shape: Shape
    at: tuple[int, ...]  # the key's places among the parameters
    slots: tuple[int, ...]  # where each of its columns is in the bundled row (after the tag)
    order: tuple[tuple[int, bool], ...]  # its ORDER BY: (column, descending)


@dataclass(frozen=True)
class _Statement:
    before: str  # "WITH g(c0, …) AS ("
    after: str  # ") , p1(…) AS (…), … SELECT … UNION ALL …"
    slots: tuple[int, ...]  # the first queryset's columns' places


# An order the rows can be put in here as the database puts them: whole numbers, times, truth
# values (a foreign key by the column it holds). A text's order is the database's collation
# (PostgreSQL's is the locale's) and a float's NaN sorts apart, so a part ordered by anything
# else is refused.
_ORDERABLE = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
              "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
              "PositiveSmallIntegerField", "DateTimeField", "DateField", "BooleanField"}


def _order(part: Shape, name: str) -> tuple[tuple[int, bool], ...]:
    """The part's own ORDER BY as (column, descending), each a column of its own row."""
    out = []
    for expression, _compiled in part.order:
        if not isinstance(expression, OrderBy) or expression.nulls_first or expression.nulls_last:
            raise ValueError(f"{name}: a part of a read together orders by its columns only")
        target = expression.expression
        column = next((i for i, out_ in enumerate(part.outputs)
                       if isinstance(target, Col) and out_ == target), None)
        if column is None:
            raise ValueError(f"{name}: a part of a read together orders by its columns only")
        field = target.output_field
        while field.is_relation:  # a foreign key orders by the column it holds
            field = field.target_field
        if field.get_internal_type() not in _ORDERABLE:
            raise ValueError(f"{name}: a part of a read together is ordered by "
                             f"{target.target.name}, which only its database can order")
        out.append((column, expression.descending))
    return tuple(out)


def _in_order(rows: list[list], order: tuple[tuple[int, bool], ...], vendor: str) -> list:
    """``rows`` (converted) in the part's order, NULLs where the database puts them: last going
    up on PostgreSQL, first on SQLite (and the other way going down). Stable, as ties are in
    no order the database promises either."""
    null_high = vendor == "postgresql"

    def key(row, column):
        value = row[column]
        return (null_high, 0) if value is None else (not null_high, value)

    for column, descending in reversed(order):
        rows.sort(key=lambda row, c=column: key(row, c), reverse=descending)
    return rows


# The first statements whose columns' kinds are kept by their text (``Together._statement``).
HEADS_KEPT = 1024
_TEXT = {"varchar", "char", "text", "character varying", "character"}
_WHOLE = {"smallint", "integer", "bigint", "serial", "bigserial", "smallserial"}


def _kind(expression, connection) -> str:
    """The columns one place in the bundled row can hold: any on SQLite, which has no column
    types; on PostgreSQL, one type (a text's length and an integer's width set aside: a
    ``UNION`` widens them, and the values are the same)."""
    if connection.vendor != "postgresql":
        return ""
    field = expression.output_field
    kind = field.db_type(connection)  # a foreign key's is its target's
    if not kind:
        raise ValueError(f"{field!r}: no column type to cast a NULL to")
    kind = re.sub(r"\([^)]*\)", "", kind).strip().lower()
    return "text" if kind in _TEXT else "bigint" if kind in _WHOLE else kind


def _place(kinds: tuple[str, ...], slots: list[str]) -> tuple[int, ...]:
    """Each column's place among ``slots`` (a place of its kind this row does not use yet;
    a new one at the end when there is none): the parts share the row's places."""
    used, out = set(), []
    for kind in kinds:
        free = next((i for i, k in enumerate(slots) if k == kind and i not in used), None)
        if free is None:
            slots.append(kind)
            free = len(slots) - 1
        used.add(free)
        out.append(free)
    return tuple(out)


class Together:
    """A first queryset's row and, when it has one, each fixed part's rows for one key."""

    def __init__(self, parts: dict[str, Callable[[int], QuerySet]]):
        self.parts = dict(parts)
        self._parts: dict[str, tuple[tuple[_Part, ...], tuple[str, ...]]] = {}
        self._statements: dict[tuple, _Statement] = {}
        self._kinds: dict[tuple[str, str], tuple[str, ...]] = {}

    def _compile(self, alias: str) -> tuple[tuple[_Part, ...], tuple[str, ...]]:
        """The parts, compiled once a database, and the kinds of the places they use."""
        found = self._parts.get(alias)
        if found is not None:
            return found
        connection = connections[alias]
        parts, slots = [], []
        for name, make in self.parts.items():
            part = shape(make(PROBE).using(alias), alias)
            at = tuple(i for i, p in enumerate(part.params) if p == PROBE)
            if not at:
                raise ValueError(f"{name}: a part of a read together is keyed by its id")
            kinds = tuple(_kind(e, connection) for e in part.outputs)
            parts.append(_Part(name, part, at, _place(kinds, slots), _order(part, name)))
        found = self._parts[alias] = (tuple(parts), tuple(slots))
        return found

    def _statement(self, alias: str, head: Shape) -> _Statement:
        """The statement around the first queryset's text, for the kinds of its columns."""
        # The head's text names its columns, and so their kinds: asking each of a case's ~80
        # columns its type was ~0.3 ms of every read (lead42). Kept by text, as many as the
        # doors' heads are (``cases.selectors._door_head``), then forgotten all at once.
        kinds = self._kinds.get((alias, head.sql))
        if kinds is None:
            if len(self._kinds) >= HEADS_KEPT:
                self._kinds.clear()
            connection = connections[alias]
            kinds = self._kinds[(alias, head.sql)] = tuple(
                _kind(e, connection) for e in head.outputs)
        known = self._statements.get((alias, kinds))
        if known is not None:
            return known
        connection = connections[alias]
        parts, part_slots = self._compile(alias)
        slots = list(part_slots)
        own = _place(kinds, slots)
        typed = connection.vendor == "postgresql"
        first = ["NULL"] * len(slots)
        if typed:  # PostgreSQL types a UNION's columns from the left
            first = [f"CAST(NULL AS {kind})" for kind in slots]
        for i, slot in enumerate(own):
            # SQLite's driver converts a column by the type the first SELECT declares for it
            # (Django registers "bool", "decimal", "datetime"…), and the parts share the
            # places: ``+`` declares none, and each part's converters read the value as stored.
            first[slot] = f"g.c{i}" if typed else f"+g.c{i}"
        ctes = [f"g({', '.join(f'c{i}' for i in range(head.width))}) AS ("]
        branches = [f"SELECT 0, {', '.join(first)} FROM g"]
        for k, part in enumerate(parts, start=1):
            columns = ", ".join(f"c{i}" for i in range(part.shape.width))
            ctes.append(f"p{k}({columns}) AS ({part.shape.sql})")
            row = ["NULL"] * len(slots)
            for i, slot in enumerate(part.slots):
                row[slot] = f"p{k}.c{i}"
            branches.append(f"SELECT {k}, {', '.join(row)} FROM p{k} "
                            "WHERE EXISTS (SELECT 1 FROM g)")
        after = ")" + "".join(f", {cte}" for cte in ctes[1:]) + " " + " UNION ALL ".join(branches)
        made = self._statements[(alias, kinds)] = _Statement("WITH " + ctes[0], after, own)
        return made

    def __call__(self, first: QuerySet, key: int, *, using: str) -> tuple[list, dict[str, list]]:
        """``first``'s instances (its annotations set, as ``ModelIterable`` sets them) and, for
        each part, its instances for ``key``: none when ``first`` admits no row."""
        try:
            head = shape(first.using(using), using, annotated=True)
        except EmptyResultSet:  # a key out of the id's range, say: nothing admitted, nothing read
            return [], {name: [] for name in self.parts}
        return self.read(head, head.params, key, using=using)

    def read(self, head: Shape, params, key: int, *, using: str
             ) -> tuple[list, dict[str, list]]:
        """``__call__`` for a first statement compiled already (``head``, with ``annotated``),
        run with ``params``: a caller that keeps a compiled statement and binds its own."""
        parts, _slots = self._compile(using)
        connection = connections[using]
        statement = self._statement(using, head)
        params = list(params)
        key = int(key)
        for part in parts:
            own_params = list(part.shape.params)
            for i in part.at:
                own_params[i] = key
            params.extend(own_params)
        with connection.cursor() as cursor:
            cursor.execute(statement.before + head.sql + statement.after, params)
            rows = cursor.fetchall()
        held: list[list] = [[] for _ in range(len(parts) + 1)]
        for row in rows:
            tag = row[0]
            slots, spec = (statement.slots, head) if tag == 0 else (
                parts[tag - 1].slots, parts[tag - 1].shape)
            held[tag].append(convert([row[1 + slot] for slot in slots], spec.converters,
                                     connection))
        firsts = [annotated(head, own, using) for own in held[0]]
        return firsts, {part.name: [instance(part.shape.top, own, using)
                                    for own in _in_order(owns, part.order, connection.vendor)]
                        for part, owns in zip(parts, held[1:], strict=True)}
