"""One row admitted by a query, and the rows that hang on it, read in one statement.

The API's detail of a case is the case through the permission door and six of its relations:
seven statements, each a round trip to the database and a turn of the driver, where issue 9
asks a transition with its answer to take at most eight in all. ``Together`` reads the first
queryset (the door's, compiled for this request) and any number of fixed parts keyed by one id
(``db.fixed``: compiled once a database) as one ``UNION ALL``::

    WITH g(c0, …) AS (<the first queryset>), p1(c0, …) AS (<part 1>), …
    SELECT 0, 1, <NULL for every part's columns>, g.c0, … FROM g
    UNION ALL SELECT 1, ROW_NUMBER() OVER (ORDER BY <part 1's order>), p1.c0, …, NULL, …
              FROM p1 WHERE EXISTS (SELECT 1 FROM g)
    …
    ORDER BY 1, 2

Each part keeps its own statement, as the ORM wrote it, in its own columns; the rest of the
row is NULL. So every value comes back as the part's own statement returns it and is converted
by the part's own converters: the instances are the ones its queryset builds (tested field by
field). A part is read only when the first queryset admits its row (``EXISTS`` on it), so a
case the door refuses has none of its rows read. Each part's order is its queryset's, numbered
by ``ROW_NUMBER()`` (a part ordered by anything but its own columns is refused when compiled).

PostgreSQL types a ``UNION``'s columns pair by pair from the left, so its first branch casts
each NULL to its column's type; SQLite needs no casts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.expressions import Col, OrderBy

from .fixed import PROBE, Shape, convert, instance, shape


@dataclass(frozen=True)
class _Part:
    name: str
    shape: Shape
    at: tuple[int, ...]  # the key's places among the parameters
    start: int  # where its columns begin in the bundled row


@dataclass(frozen=True)
class _Compiled:
    parts: tuple[_Part, ...]
    ctes: str  # ", p1(c0, …) AS (…), …": the parts' statements
    casts: str  # the first branch's NULLs, typed on PostgreSQL
    branches: tuple[str, ...]  # each part's SELECT, without the first queryset's NULLs
    width: int  # the parts' columns


def _order(part: Shape, name: str, cte: str) -> str:
    """The part's own ORDER BY, on its CTE's columns."""
    out = []
    for expression, _compiled in part.order:
        if not isinstance(expression, OrderBy) or expression.nulls_first or expression.nulls_last:
            raise ValueError(f"{name}: a part of a read together orders by its columns only")
        target = expression.expression
        if isinstance(target, F):
            raise ValueError(f"{name}: a part's order is resolved when it is compiled")
        try:
            column = next(i for i, out_ in enumerate(part.outputs)
                          if isinstance(target, Col) and out_ == target)
        except StopIteration:
            raise ValueError(f"{name}: a part of a read together orders by its columns only"
                             ) from None
        out.append(f"{cte}.c{column}" + (" DESC" if expression.descending else ""))
    return ", ".join(out)


def _db_type(expression, connection) -> str:
    field = expression.output_field
    kind = field.db_type(connection)  # a foreign key's is its target's
    if not kind:
        raise ValueError(f"{field!r}: no column type to cast a NULL to")
    return kind


class Together:
    """A first queryset's row and, when it has one, each fixed part's rows for one key."""

    def __init__(self, parts: dict[str, Callable[[int], QuerySet]]):
        self.parts = dict(parts)
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is not None:
            return compiled
        connection = connections[alias]
        typed = connection.vendor == "postgresql"
        parts, ctes, casts, start = [], [], [], 2
        for k, (name, make) in enumerate(self.parts.items(), start=1):
            found = shape(make(PROBE).using(alias), alias)
            at = tuple(i for i, p in enumerate(found.params) if p == PROBE)
            if not at:
                raise ValueError(f"{name}: a part of a read together is keyed by its id")
            columns = ", ".join(f"c{i}" for i in range(found.width))
            ctes.append(f"p{k}({columns}) AS ({found.sql})")
            casts.extend(f"CAST(NULL AS {_db_type(e, connection)})" if typed else "NULL"
                         for e in found.outputs)
            parts.append(_Part(name, found, at, start))
            start += found.width
        width = start - 2
        branches = []
        for k, part in enumerate(parts, start=1):
            before = ["NULL"] * (part.start - 2)
            after = ["NULL"] * (width - (part.start - 2) - part.shape.width)
            own = [f"p{k}.c{i}" for i in range(part.shape.width)]
            order = _order(part.shape, part.name, f"p{k}")
            number = f"ROW_NUMBER() OVER (ORDER BY {order})" if order else "ROW_NUMBER() OVER ()"
            branches.append(f"SELECT {k}, {number}, " + ", ".join(before + own + after))
        compiled = self._compiled[alias] = _Compiled(
            tuple(parts), "".join(f", {cte}" for cte in ctes), ", ".join(casts),
            tuple(branches), width)
        return compiled

    def __call__(self, first: QuerySet, key: int, *, using: str) -> tuple[list, dict[str, list]]:
        """``first``'s instances (its annotations set, as ``ModelIterable`` sets them) and, for
        each part, its instances for ``key``: none when ``first`` admits no row."""
        compiled = self._compile(using)
        connection = connections[using]
        try:
            head = shape(first.using(using), using, annotated=True)
        except EmptyResultSet:  # a key out of the id's range, say: nothing admitted, nothing read
            return [], {part.name: [] for part in compiled.parts}
        gate = ", ".join(f"c{i}" for i in range(head.width))
        own = ", ".join(f"g.c{i}" for i in range(head.width))
        nulls = ", NULL" * head.width
        sql = [f"WITH g({gate}) AS ({head.sql}){compiled.ctes} "
               f"SELECT 0, 1, {compiled.casts}{', ' if compiled.width else ''}{own} FROM g"]
        for k, branch in enumerate(compiled.branches, start=1):
            sql.append(f" UNION ALL {branch}{nulls} FROM p{k} WHERE EXISTS (SELECT 1 FROM g)")
        sql.append(" ORDER BY 1, 2")
        params = list(head.params)
        key = int(key)
        for part in compiled.parts:
            own_params = list(part.shape.params)
            for i in part.at:
                own_params[i] = key
            params.extend(own_params)
        with connection.cursor() as cursor:
            cursor.execute("".join(sql), params)
            rows = cursor.fetchall()
        firsts, found = [], {part.name: [] for part in compiled.parts}
        offset = 2 + compiled.width
        for row in rows:
            tag = row[0]
            if tag == 0:
                row = convert(row, head.converters, connection, offset)
                obj = instance(head.top, row, using, offset)
                for name, column in head.annotations:
                    setattr(obj, name, row[offset + column])
                firsts.append(obj)
            else:
                part = compiled.parts[tag - 1]
                row = convert(row, part.shape.converters, connection, part.start)
                found[part.name].append(instance(part.shape.top, row, using, part.start))
        return firsts, found
