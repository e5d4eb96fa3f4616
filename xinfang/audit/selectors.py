"""Reading the trail for a person: the auditor's page and ``xinfang audit list`` list it alike —
newest first, an entry's brief in place of a long detail, narrowed by who acted."""

from __future__ import annotations

from django.db import connections
from django.db.models import Case, F, JSONField, QuerySet, When

from .models import AuditEntry
from .services import brief_of


def listed(entries: QuerySet) -> QuerySet:
    """``entries`` without their details, each with ``listed_detail``: its detail only where it
    has no brief (``AuditEntry.brief``). Fifty exports' details of 1.8 MB each, read whole to
    show twenty numbers of each, took the list 1.3–1.9 s at 1M cases (lead49)."""
    return entries.defer("detail").annotate(listed_detail=Case(
        When(brief__isnull=True, then=F("detail")), output_field=JSONField()))


def shown(entry: AuditEntry) -> tuple[dict, dict | None]:
    """What a list shows of an entry read through ``listed``: its detail, or its brief's with
    the lengths of the lists cut (``{"cases": 100000}``). An entry written before briefs is
    briefed here by the same rule (``brief_of``)."""
    brief = entry.brief or brief_of(entry.listed_detail or {})
    if brief is None:
        return entry.listed_detail or {}, None
    return brief["detail"], brief["cut"]


# The most names ``actor_names`` reads: a province's staff are a few thousand, but a failed
# sign-in under an unknown username records the name typed, so a spray of made-up names could
# make the skip scan as long as the trail. Past this, and where the text matches more names
# than ``NAMES_MATCHED`` (then its entries are many, and the newest-first walk stops early),
# the filter is the substring test of each entry it was.
NAMES_READ = 20_000
NAMES_MATCHED = 500


def by_actor(entries: QuerySet, text: str) -> QuerySet:
    """The entries of actors whose name contains ``text``, case-insensitively, as
    ``actor_name__icontains`` would find them — but by the names themselves: the trail's
    distinct names (``actor_names``, a few thousand) are matched here, and the entries are
    looked up by name off ``audit_actor_newest``. Every case read appends an entry, and a
    substring test of each walked the whole trail for a rare actor (386–525 ms on SQLite at
    200k cases with a generated year; lead50)."""
    names = actor_names(entries.db)
    if names is not None:
        needle = text.lower()
        matched = [name for name in names if needle in name.lower()]
        if len(matched) <= NAMES_MATCHED:
            return entries.filter(actor_name__in=matched) if matched else entries.none()
    return entries.filter(actor_name__icontains=text)


# The names read, per database alias: (the newest entry's id and hash then, the names or None
# where more than ``NAMES_READ``). An auditor pages through an actor's entries, each page
# filtered again: the skip scan took 30 ms of each at 4.2 million entries on PostgreSQL
# (lead50), the entries appended since take a fraction of that.
_known: dict[str, tuple[int, str, frozenset[str] | None]] = {}
# Read the names of the entries appended since (from a little before: an id taken by a
# transaction not yet committed when the names were read) rather than scan again, up to this
# many entries.
TAIL_READ = 50_000
TAIL_OVERLAP = 1_000


def actor_names(using: str = "default") -> list[str] | None:
    """Every actor name in the trail (sorted), None where there are more than ``NAMES_READ``.

    Read once by a skip scan of ``audit_actor_newest`` (each step one index probe for the next
    name up: a few thousand names cost a few thousand probes, not a read of millions of
    entries), then kept with the newest entry's id and hash, and brought up to date from the
    entries appended since. A trail replaced by a restore or cut by a prune no longer holds
    that entry as it was, and is scanned again."""
    table = AuditEntry._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT id, hash FROM {table} ORDER BY id DESC LIMIT 1")
        head = cursor.fetchone()
        if head is None:
            return []
        kept = _known.get(using)
        names: frozenset[str] | None
        if kept is not None and kept[0] <= head[0] <= kept[0] + TAIL_READ and _holds(
                cursor, table, kept):
            names = kept[2]
            if names is not None:
                # the bound written, not bound: a prepared statement's generic plan guesses a
                # third of the trail for "id > $1" (this is read before the view's
                # ``planned_each_time``)
                since = int(kept[0]) - TAIL_OVERLAP
                cursor.execute(f"SELECT DISTINCT actor_name FROM {table} WHERE id > {since}")
                names = names | {name for (name,) in cursor.fetchall()}
                if len(names) > NAMES_READ:
                    names = None
        else:
            cursor.execute(
                f"WITH RECURSIVE names(name, n) AS ("
                f"SELECT MIN(actor_name), 1 FROM {table} UNION ALL "
                f"SELECT (SELECT MIN(actor_name) FROM {table} WHERE actor_name > names.name), "
                f"names.n + 1 FROM names WHERE names.name IS NOT NULL AND names.n <= %s) "
                f"SELECT name FROM names WHERE name IS NOT NULL", [NAMES_READ])
            read = frozenset(name for (name,) in cursor.fetchall())
            names = read if len(read) <= NAMES_READ else None
    _known[using] = (head[0], head[1], names)
    return sorted(names) if names is not None else None


def _holds(cursor, table: str, kept: tuple[int, str, frozenset[str] | None]) -> bool:
    cursor.execute(f"SELECT hash FROM {table} WHERE id = %s", [kept[0]])
    row = cursor.fetchone()
    return row is not None and row[0] == kept[1]
