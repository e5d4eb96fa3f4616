"""Search over a case's number, matter and demands ("search=" on the ledger, the API and the L0
export): the same results on both databases, each read through an index.

- PostgreSQL: trigram GIN indexes on ``UPPER(…)`` (migration 0007); each part is a subquery run
  once. A two-character term has no trigram: it is looked up in the GIN indexes of two-character
  pieces (``xf_bigrams``, migration 0012) — a text contains such a term exactly when the term is
  one of its pieces. A rare pair is read off those indexes; a common one (more than
  ``FEW_MATCHES`` matches) is tested per case in the list's order, which stops at the page (the
  ledger and the API then count it only to ``paging.SEARCH_COUNT_CAP``). A one-character term
  still reads every case.
- SQLite: FTS5 tables with the trigram tokenizer, ``cases_case_fts`` (number, matter) and
  ``cases_demand_fts`` (text), external-content tables kept in step by triggers (migration
  ``0011_lists2_search_fts``). A term of three characters or more is a phrase ``MATCH`` there —
  case-insensitive substring, like ``icontains``: a phrase with few matches drives the query
  (its cases fetched by id), a common one is tested per case in the list's order (``FEW_MATCHES``).
  A shorter term (危房) has no trigram: it, and an
  SQLite without FTS5 (where the migration made no tables), fall back to testing each case in
  the list's order, which stops after a page of a common word.

Whether a term is rare is counted once per ``VERDICT_SECONDS`` in a process: either plan finds
the same cases, so a verdict gone stale costs time, never a result.
"""

from __future__ import annotations

import time

from django.db import connection
from django.db.models import BigIntegerField, F, Func, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.lookups import In, IsNull

from .models import Case, Demand

MIN_TRIGRAM = 3
BIGRAM = 2

PG_BIGRAM_CASES = (
    "SELECT id FROM cases_case WHERE xf_bigrams(UPPER(number::text)) @> ARRAY[UPPER(%s)] "
    "OR xf_bigrams(UPPER(matter::text)) @> ARRAY[UPPER(%s)]"
)
PG_BIGRAM_DEMANDS = (
    "SELECT case_id FROM cases_demand WHERE xf_bigrams(UPPER(text::text)) @> ARRAY[UPPER(%s)]"
)

SQLITE_FTS_SQL = [
    "CREATE VIRTUAL TABLE cases_case_fts USING fts5("
    "number, matter, content='cases_case', content_rowid='id', tokenize='trigram')",
    "CREATE VIRTUAL TABLE cases_demand_fts USING fts5("
    "text, content='cases_demand', content_rowid='id', tokenize='trigram')",
    # cases
    "CREATE TRIGGER cases_case_fts_ai AFTER INSERT ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(rowid, number, matter) VALUES (new.id, new.number, new.matter); "
    "END",
    "CREATE TRIGGER cases_case_fts_ad AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, number, matter) "
    "VALUES ('delete', old.id, old.number, old.matter); END",
    "CREATE TRIGGER cases_case_fts_au AFTER UPDATE OF number, matter ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, number, matter) "
    "VALUES ('delete', old.id, old.number, old.matter); "
    "INSERT INTO cases_case_fts(rowid, number, matter) VALUES (new.id, new.number, new.matter); "
    "END",
    # demands
    "CREATE TRIGGER cases_demand_fts_ai AFTER INSERT ON cases_demand BEGIN "
    "INSERT INTO cases_demand_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER cases_demand_fts_ad AFTER DELETE ON cases_demand BEGIN "
    "INSERT INTO cases_demand_fts(cases_demand_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER cases_demand_fts_au AFTER UPDATE OF text ON cases_demand BEGIN "
    "INSERT INTO cases_demand_fts(cases_demand_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO cases_demand_fts(rowid, text) VALUES (new.id, new.text); END",
    # what was there before the tables
    "INSERT INTO cases_case_fts(cases_case_fts) VALUES ('rebuild')",
    "INSERT INTO cases_demand_fts(cases_demand_fts) VALUES ('rebuild')",
]
SQLITE_FTS_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_fts_{when}"
        for table in ("cases_case", "cases_demand")
        for when in ("ai", "ad", "au")
    ),
    "DROP TABLE IF EXISTS cases_case_fts",
    "DROP TABLE IF EXISTS cases_demand_fts",
]

IN_CASES = "SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s"
IN_DEMANDS = (
    "SELECT d.case_id FROM cases_demand_fts JOIN cases_demand d "
    "ON d.id = cases_demand_fts.rowid WHERE cases_demand_fts MATCH %s"
)
# Up to this many matching cases and demands, a search reads the matches and fetches them by id;
# beyond, it tests each case of the list against the matches (measured at 200k on SQLite: a rare
# phrase 1 ms against 40 ms the other way, a phrase in 13k cases 80 ms against 170 ms).
FEW_MATCHES = 2000

_fts_present: dict[str, bool] = {}


def sqlite_fts() -> bool:
    """Whether this SQLite database has the FTS tables (asked once per database file)."""
    key = str(connection.settings_dict["NAME"])
    if key not in _fts_present:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                "AND name IN ('cases_case_fts', 'cases_demand_fts')"
            )
            _fts_present[key] = cursor.fetchone()[0] == 2
    return _fts_present[key]


# Whether a term is rare, as last counted, for ``VERDICT_SECONDS``: the verdict only chooses
# between two plans with the same answer, and a term's share of a province's cases moves
# slowly. Counting it again costs as much as the page's own count (35 ms for 危房 at 1M).
VERDICT_SECONDS = 600.0
MAX_VERDICTS = 5000
_verdicts: dict[tuple, tuple[float, bool]] = {}


def _remembered(kind: str, term: str, count) -> bool:
    key = (kind, str(connection.settings_dict["NAME"]), term, FEW_MATCHES)
    now = time.monotonic()
    kept = _verdicts.get(key)
    if kept is not None and now - kept[0] < VERDICT_SECONDS:
        return kept[1]
    if len(_verdicts) >= MAX_VERDICTS:
        _verdicts.clear()
    few = count(term)
    _verdicts[key] = (now, few)
    return few


def forget_verdicts() -> None:
    _verdicts.clear()


def _few_matches(phrase: str) -> bool:
    return _remembered("fts", phrase, _count_fts)


def _count_fts(phrase: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM cases_case_fts "
            "WHERE cases_case_fts MATCH %s LIMIT %s)) + (SELECT COUNT(*) FROM (SELECT 1 FROM "
            "cases_demand_fts WHERE cases_demand_fts MATCH %s LIMIT %s))",
            [phrase, FEW_MATCHES + 1, phrase, FEW_MATCHES + 1],
        )
        return cursor.fetchone()[0] <= FEW_MATCHES


def _pg_few_bigram_matches(pair: str) -> bool:
    """Whether at most ``FEW_MATCHES`` cases and demands of the whole database contain ``pair``
    (read off the bigram indexes, stopping past the threshold)."""
    return _remembered("bigram", pair, _count_bigram)


def _count_bigram(pair: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({PG_BIGRAM_CASES} LIMIT %s) c) + "
            f"(SELECT COUNT(*) FROM ({PG_BIGRAM_DEMANDS} LIMIT %s) d)",
            [pair, pair, FEW_MATCHES + 1, pair, FEW_MATCHES + 1],
        )
        return cursor.fetchone()[0] <= FEW_MATCHES


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 phrase: any character stands for itself (quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def search_q(text: str) -> Q:
    """Cases whose number, matter or a demand contains ``text`` (case-insensitive)."""
    if connection.vendor == "postgresql":
        if len(text) == BIGRAM:
            if _pg_few_bigram_matches(text):
                # One IN over both sources, so the planner joins on the few matches — an OR of
                # two IN tests could only filter a scan of the whole list.
                return Q(pk__in=RawSQL(f"{PG_BIGRAM_CASES} UNION ALL {PG_BIGRAM_DEMANDS}",
                                       [text, text, text]))
            # A common pair (危房: one case in nine): reading every match to keep a page of 50
            # costs seconds; testing the list's cases in its own order stops at the page.
            return _tested_per_case(text)
        in_cases = Case.objects.filter(Q(number__icontains=text) | Q(matter__icontains=text))
        in_demands = Demand.objects.filter(text__icontains=text)
        return Q(pk__in=in_cases.values("pk")) | Q(pk__in=in_demands.values("case_id"))
    if len(text) >= MIN_TRIGRAM and sqlite_fts():
        phrase = fts_phrase(text)
        in_cases = RawSQL(IN_CASES, [phrase])
        in_demands = RawSQL(IN_DEMANDS, [phrase])
        if _few_matches(phrase):
            # Read the matches off the FTS tables and fetch those cases by id.
            return Q(pk__in=in_cases) | Q(pk__in=in_demands)
        # A common phrase: read the list in its own order and look each case up in the matches
        # (``+id`` keeps SQLite from driving the query by the thousands of matching ids and
        # sorting them all for one page).
        pk = Func(F("pk"), template="+%(expressions)s", output_field=BigIntegerField())
        return Q(In(pk, in_cases)) | Q(In(pk, in_demands))
    return _tested_per_case(text)


def _tested_per_case(text: str) -> Q:
    """Each case of the list tested in the list's order (its matter and number on the row, its
    demands by the case's index): the database stops once it has the rows it needs."""
    in_demands = Demand.objects.filter(case=OuterRef("pk"), text__icontains=text)
    # "The first such demand is not NULL" rather than EXISTS: PostgreSQL may turn an EXISTS
    # into one hash of every matching demand of the database, built before the first row.
    first = Subquery(in_demands.values("pk")[:1])
    return Q(number__icontains=text) | Q(matter__icontains=text) | Q(IsNull(first, False))
