"""The permission door's tests of one case as fixed SQL text (issue 9: per-request CPU).

``Door.apply_one`` and the action reads ask, inside the statement that reads a case, whether
the case is in the user's scope, whether the user's unit or the user is its respondent and
whether the user has recused from it. Built as ORM ``Exists`` over querysets, these tests cost
4–7 ms of CPU per statement to build and compile before the database saw anything (three to
five subqueries, one with a nested ``OuterRef``), and the bell on every page paid it again.
Here each test is a short SQL text: the ORM resolves and quotes only the case's own columns
(so the text holds under any alias — the case table inside the bell's subquery, say), and the
pattern operators are the backend's own (``::text`` cast, ``LIKE`` with its escapes), written as
the ORM's ``startswith`` and ``contains`` write them. ``tests/cases/test_door_one.py`` holds the
door for one case equal to the list door over every kind of recusal and respondent.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.db.models import BooleanField, Expression, F, Q

from xinfang.org.models import Unit
from xinfang.security.models import Recusal

from .models import Assignment, CasePetitioner, Respondent

# (the row's compiled columns by name, the connection) -> SQL text with %s for ``params``
Render = Callable[[dict[str, str], object], str]


class Probe(Expression):
    """A boolean SQL text about the row being read, with ``params`` for its ``%s`` (or a
    function of the connection giving them)."""

    def __init__(self, render: Render, params: tuple | Callable = (), **columns):
        super().__init__(output_field=BooleanField())
        self.render, self.params, self.columns = render, params, columns

    def get_source_expressions(self):
        return list(self.columns.values())

    def set_source_expressions(self, exprs):
        self.columns = dict(zip(self.columns, exprs, strict=True))

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False,
                           for_save=False):
        c = self.copy()
        c.is_summary = summarize
        c.columns = {name: col.resolve_expression(query, allow_joins, reuse, summarize, for_save)
                     for name, col in self.columns.items()}
        return c

    def as_sql(self, compiler, connection):
        cols = {}
        for name, col in self.columns.items():
            sql, params = compiler.compile(col)
            if params:  # a column has none; anything else would put the parameters out of order
                raise ValueError(f"Probe: column {name} compiled with parameters")
            cols[name] = sql
        params = self.params(connection) if callable(self.params) else self.params
        return self.render(cols, connection), list(params)


def _text(connection, sql: str) -> str:
    """A column as the ORM's pattern lookups cast it (PostgreSQL: ``::text``)."""
    return connection.ops.lookup_cast("startswith", "CharField") % sql


def _startswith(connection, column: str) -> str:
    """``column`` starts with the next parameter (already escaped and ending in ``%``)."""
    return f"{_text(connection, column)} {connection.operators['startswith']}"


def _contains(connection, column: str, words: str) -> str:
    """``column`` contains the text of column ``words`` literally (its ``%``, ``_`` and
    backslashes match themselves), as ``Contains(column, F(words))`` writes it."""
    pattern = connection.pattern_ops["contains"].format(connection.pattern_esc)
    return f"{_text(connection, column)} {pattern.format(words)}"


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _prefix(connection, text: str) -> str:
    """The parameter of ``_startswith``: ``text`` with LIKE's wildcards escaped, then ``%``."""
    return connection.ops.prep_for_like_query(text) + "%"


# -- the door's tests --------------------------------------------------------------------------

def among(column: str, ids: tuple[int, ...], *, written: bool = False) -> Probe:
    """The row's ``column`` is one of ``ids``: ``= ANY(%s)`` with the ids as one array on
    PostgreSQL, ``IN (%s, …)`` elsewhere. A door names a county's subtree (230 units in the
    generated county) in every list statement; as 230 parameters Django prepared each one and
    psycopg split the statement's text again on every execution (its cache of parsed statements
    stops at 50 parameters): 1–2 ms of CPU a statement, five statements on the work queue. The
    planner reads ``IN (constants)`` as ``= ANY(constant array)``, so the plan is the same (the
    ids are unit ids: ``bigint``, like the columns that hold them). ``written``: the array is
    part of the statement's text on PostgreSQL, not a parameter (``named``)."""
    if not ids:
        return Probe(lambda cols, connection: "1 = 0")

    ids = tuple(ids)

    def render(cols, connection):
        if connection.vendor == "postgresql":
            if written and len(ids) == 1:
                # one id as an equality: PostgreSQL 15 walks an index on (column, order) in the
                # list's order for ``= 4``, not for ``= ANY('{4}')`` (a county's overdue ledger
                # read its office's open cases off such an index in 0.8 ms, not 5; lead48)
                return f"{cols['column']} = {int(ids[0])}"
            value = f"'{_array(ids)}'" if written else "%s"
            return f"{cols['column']} = ANY({value}::bigint[])"
        return f"{cols['column']} IN ({_marks(ids)})"

    def params(connection):
        if connection.vendor == "postgresql":
            return () if written else (_array(ids),)
        return tuple(map(int, ids))
    return Probe(render, params, column=F(column))


@lru_cache(maxsize=16)
def _array(ids: tuple) -> str:
    """The ids as an array's text ('{1,2,3}'), each made an ``int`` first (nothing else is
    written): the driver sends one string, where a list of ints went through its array dumper
    element by element. Kept for the doors asked last: the busy township names its 13,573
    cases in every list statement, and writing them was 2 ms of each of its requests; finding
    the same ids again is a hash of the tuple."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


def named(column: str, ids: tuple[int, ...]) -> Probe:
    """``among``, with the ids written into the statement on PostgreSQL: a constant array, not a
    parameter. A prepared statement's generic plan knows neither a parameter's length nor its
    values; for a handling unit's named cases (``Door.handled``) it chose to walk the date index
    testing each case against the array, one by one: after the fifth call the busy township's
    ledger took 130–160 ms instead of 57, its API list 110 instead of 45; an ordinary county's
    search 160–184 instead of 118 (its statements' text the busy county's, only the array
    differing). A constant array is planned as it is every time, and tested through a hash;
    each door's text is then its own. The ids are integers (``int``: nothing else is written)."""
    return among(column, ids, written=True)


def among_or_in(column: str, ids) -> Probe | Q:
    """``column`` is one of ``ids``: given as ids (a list, tuple or set), as one array
    (``among``); given as a subquery, ``IN`` it. A door's listed units or the subquery of a
    subtree too big to list; a kept figure's corrections (the cases changed since the last
    refresh and those the door keeps from the reader, some hundreds: as that many parameters,
    each of the supervision page's statements that named them cost 1–2 ms of CPU to build and
    bind) or the subquery of a month's edge."""
    if isinstance(ids, (list, tuple, set, frozenset)):
        return among(column, tuple(ids))
    return Q(**{f"{column}__in": ids})


def in_jurisdictions_under(path: str) -> Probe:
    """The case's jurisdiction is the unit at ``path`` or one under it: an office's scope."""
    def render(cols, connection):
        return (f"EXISTS (SELECT 1 FROM {Unit._meta.db_table} xf_du WHERE xf_du.id = "
                f"{cols['jurisdiction']} AND {_startswith(connection, 'xf_du.path')})")
    return Probe(render, lambda connection: (_prefix(connection, path),),
                 jurisdiction=F("jurisdiction_id"))


def handled_under(statuses, path: str) -> Probe:
    """The case is or was assigned (``statuses``) to the unit at the path or one under it."""
    def render(cols, connection):
        return (f"EXISTS (SELECT 1 FROM {Assignment._meta.db_table} xf_da INNER JOIN "
                f"{Unit._meta.db_table} xf_du ON xf_du.id = xf_da.unit_id WHERE xf_da.case_id = "
                f"{cols['pk']} AND xf_da.status IN ({_marks(statuses)}) AND "
                f"{_startswith(connection, 'xf_du.path')})")
    statuses = tuple(getattr(s, "value", s) for s in statuses)  # plain text for the driver
    return Probe(render, lambda connection: (*statuses, _prefix(connection, path)), pk=F("pk"))


def handled_by_listed(statuses, units: tuple[int, ...]) -> Probe:
    """The case is or was assigned (``statuses``) to one of ``units``, for a count: on
    PostgreSQL ``id = ANY(ARRAY(<the units' assignments>))``, which reads the units' cases by
    their key; ``id IN (…)`` elsewhere. Counting a township's cases to the cap, ``id IN`` the
    same assignments was planned as a hash semi-join over every case's id (103 ms at 1M; this
    form 19 ms). Not for a list in date order: the array form reads and sorts all the units'
    cases where ``IN`` walks the date index and stops at fifty (PERFORMANCE.md, lead24, lead25)."""
    statuses = tuple(getattr(s, "value", s) for s in statuses)
    units = tuple(int(u) for u in units)
    array = "{" + ",".join(map(str, units)) + "}"

    def render(cols, connection):
        table = Assignment._meta.db_table
        if connection.vendor == "postgresql":
            return (f"{cols['pk']} = ANY(ARRAY(SELECT xf_ca.case_id FROM {table} xf_ca WHERE "
                    f"xf_ca.unit_id = ANY(%s::bigint[]) AND xf_ca.status IN "
                    f"({_marks(statuses)})))")
        return (f"{cols['pk']} IN (SELECT xf_ca.case_id FROM {table} xf_ca WHERE xf_ca.unit_id "
                f"IN ({_marks(units)}) AND xf_ca.status IN ({_marks(statuses)}))")

    def params(connection):
        return (array, *statuses) if connection.vendor == "postgresql" else (*units, *statuses)
    return Probe(render, params, pk=F("pk"))


def accused(inside: tuple[int, ...], user_id: int | None) -> Probe:
    """A respondent of the case names one of the units ``inside`` or the user (``user_id``
    None: the units alone, as ``services.base.respondent_filter`` reads it)."""
    tests, params = [], []
    if inside:
        tests.append(f"xf_dr.unit_id IN ({_marks(inside)})")
        params += inside
    if user_id is not None:
        tests.append("xf_dr.user_id = %s")
        params.append(user_id)
    if not tests:
        return Probe(lambda cols, connection: "1 = 0")
    where = " OR ".join(tests)

    def render(cols, connection):
        return (f"EXISTS (SELECT 1 FROM {Respondent._meta.db_table} xf_dr WHERE "
                f"xf_dr.case_id = {cols['pk']} AND ({where}))")
    return Probe(render, tuple(params), pk=F("pk"))


def recused(user_id: int) -> Probe:
    """An active recusal of the user names the case, one of its petitioners, or words its
    matter contains (``matter_words``, taken literally)."""
    def render(cols, connection):
        return (f"EXISTS (SELECT 1 FROM {Recusal._meta.db_table} xf_dx WHERE xf_dx.user_id = %s "
                f"AND xf_dx.is_active AND (xf_dx.case_id = {cols['pk']} OR xf_dx.petitioner_id "
                f"IN (SELECT xf_dl.petitioner_id FROM {CasePetitioner._meta.db_table} xf_dl "
                f"WHERE xf_dl.case_id = {cols['pk']}) OR (NOT (xf_dx.matter_words = '') AND "
                f"{_contains(connection, cols['matter'], 'xf_dx.matter_words')})))")
    return Probe(render, (user_id,), pk=F("pk"), matter=F("matter"))


def any_recusal(user_id: int) -> Probe:
    """The user has declared an active recusal, of anything: a case read says so, and the
    action checks of the same request then need no query for it."""
    def render(cols, connection):
        return (f"EXISTS (SELECT 1 FROM {Recusal._meta.db_table} xf_dy WHERE "
                f"xf_dy.user_id = %s AND xf_dy.is_active)")
    return Probe(render, (user_id,))
