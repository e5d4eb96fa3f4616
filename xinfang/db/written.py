"""A column among values the code fixes, written into the statement.

Every statement reaches PostgreSQL prepared on its connection (decision 0004). From its sixth
run the server weighs a generic plan, made without the parameters' values, against the
average of the plans it made for them, and keeps planning each run where the generic one is
estimated dearer. For a filter on codes the code itself fixes — a link's petitioning roles,
a notice's role, a queue bucket's states — an unknown value is estimated with a default
selectivity, so the generic plan reckons with other rows than the plans made for the values:
the bell's count on every page and the lists' petitioners' names were planned again on every
run (1.2 and 0.26 ms of planning at 1M cases), for generic plans the same as their own
(``pg_prepared_statements``: 0 generic, 15 custom in 20 pages; lead40).

SQLite uses a partial index only where the statement's terms hold the index's condition as it
is written; a bound ``state IN (?, ?, ?)`` never does. The clerk's bucket of cases to archive
read the busy county's 7,700 ended cases and sorted them for ten (2.8 ms at 200k cases) beside
an index of exactly those cases in its order (``case_ended_idx``, 0.05 ms with the states
written; lead43).

``Written(F("role"), ("main", "representative"))`` is ``role IN (…)``, with the values written
into the text, so the plan knows them. Only codes of letters, digits and underscores are
written (nothing in them to quote or escape); any other value is bound as ``__in`` binds. Ids
the code fixes (a door's units) are written by ``cases.probes.named``.
A statement whose values differ is another text: use it for values a request does not choose.
In a filter only: unlike ``exclude(field__in=…)``, an exclusion by it does not keep the rows
whose column is NULL.
"""

from __future__ import annotations

import re

from django.core.exceptions import EmptyResultSet
from django.db.models import Lookup
from django.db.models.lookups import In

CODE = re.compile(r"[A-Za-z0-9_]*")


def _writable(value) -> bool:
    return isinstance(value, str) and CODE.fullmatch(value) is not None


class Written(Lookup):
    """``lhs IN values`` with the values written into the statement (see the module). Used as
    an expression: ``qs.filter(Written(F("state"), states))``."""

    prepare_rhs = False

    def __init__(self, lhs, rhs):
        super().__init__(lhs, tuple(rhs))

    def as_sql(self, compiler, connection):
        if not all(map(_writable, self.rhs)):
            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        # a written '%' would not need doubling: no code holds one (``CODE``)
        codes = ", ".join(f"'{code}'" for code in dict.fromkeys(self.rhs))
        return f"{lhs} IN ({codes})", params
