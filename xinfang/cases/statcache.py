"""Statistics over a list kept until the cases change: the supervision page's targets and
charts count every case in scope (at a province, a million), and a leader reloads the page
far more often than a case changes. The key is the list's own SQL (so the permission door,
recusals and filters are in it) and the newest history entry's id — every change to a case
appends one — so a count is never served after the cases it counted have moved."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db.models import Max, QuerySet

from .models import CaseEvent

T = TypeVar("T")
KEEP_SECONDS = 600


def cases_version() -> int:
    """The id of the newest history entry: it moves whenever any case changes."""
    return CaseEvent.objects.aggregate(m=Max("id"))["m"] or 0


def cached_over(qs: QuerySet, name: str, compute: Callable[[], T], *, version: int | None = None
                ) -> T:
    sql, params = qs.query.sql_with_params()
    digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()[:32]
    version = cases_version() if version is None else version
    key = f"xinfang:stats:{name}:{digest}:{version}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, KEEP_SECONDS)
    return found
