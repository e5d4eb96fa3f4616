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


def by_actor(entries: QuerySet, text: str) -> QuerySet:
    """The entries of actors whose name contains ``text``, case-insensitively, as
    ``actor_name__icontains`` would find them — but by the names themselves: the trail's
    distinct names (``actor_names``, a few thousand) are matched here, and the entries are
    looked up by name off ``audit_actor_newest``. Every case read appends an entry, and a
    substring test of each walked the whole trail for a rare actor (225 ms at two million
    entries; lead50)."""
    needle = text.lower()
    names = [name for name in actor_names(entries.db) if needle in name.lower()]
    return entries.filter(actor_name__in=names) if names else entries.none()


def actor_names(using: str = "default") -> list[str]:
    """Every actor name in the trail, by a skip scan of ``audit_actor_newest``: each step one
    index probe for the next name up, so a few thousand names cost a few thousand probes, not
    a read of millions of entries."""
    table = AuditEntry._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE names(name) AS ("
            f"SELECT MIN(actor_name) FROM {table} UNION ALL "
            f"SELECT (SELECT MIN(actor_name) FROM {table} WHERE actor_name > names.name) "
            f"FROM names WHERE names.name IS NOT NULL) "
            f"SELECT name FROM names WHERE name IS NOT NULL")
        return [name for (name,) in cursor.fetchall()]
