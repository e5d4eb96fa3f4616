"""The rules in force: profile versions as stored in the database, and the working calendar with
every administrator-loaded year. Both are cached per process and invalidated when they change."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path as FsPath
from time import monotonic

from django.conf import settings
from django.db.models import Count, Max, Sum

from xinfang.db.fixed import FixedRead

from .calendar import WorkingCalendar, parse_notice
from .models import CalendarYear, ProfileVersion
from .profile import Profile, load_profile_text

_lock = threading.Lock()
_calendar: WorkingCalendar | None = None
_signature: tuple | None = None
_checked_at = 0.0
RECHECK_SECONDS = 5.0


def _db_signature() -> tuple:
    agg = CalendarYear.objects.aggregate(n=Count("id"), last=Max("loaded_at"), sum=Sum("year"))
    return (agg["n"], agg["last"], agg["sum"])


def working_calendar() -> WorkingCalendar:
    """The calendar with every loaded year. Each process re-checks the loaded years every few
    seconds, so a year loaded by ``xinfang calendar load`` reaches every web worker and sweeper."""
    global _calendar, _signature, _checked_at
    with _lock:
        now = monotonic()
        if _calendar is not None and now - _checked_at < RECHECK_SECONDS:
            return _calendar
        signature = _db_signature()
        _checked_at = now
        if _calendar is None or signature != _signature:
            loaded = {
                row.year: parse_notice(row.text, source=row.source)
                for row in CalendarYear.objects.all()
            }
            _calendar, _signature = WorkingCalendar.shipped(extra=loaded), signature
        return _calendar


def forget_calendar() -> None:
    global _calendar, _signature
    with _lock:
        _calendar, _signature = None, None


@lru_cache(maxsize=64)
def _parsed(
    code: str,
    version: int,
    checksum: str,
    text: str,
    source: str,
    parents: tuple[tuple[str, str], ...],
) -> Profile:
    return load_profile_text(text, source=source, parents=dict(parents))


def profile_of(version: ProfileVersion) -> Profile:
    """The profile exactly as stored: its parents' texts are pinned with it, so a later edit of
    national.yaml never changes the rules of a case accepted before."""
    parents = tuple(sorted((version.parents or {}).items()))
    return _parsed(
        version.code, version.version, version.checksum, version.text, version.source, parents
    )


def shipped_profile_path(code: str):
    return settings.XINFANG_PROFILE_DIR / f"{code}.yaml"


def install_profile(*, path, by=None) -> ProfileVersion:
    """Store a profile file as a version, or return the stored row if that version is already in
    with the same text (``rules.versions.profile_install``, audited, guarded against a second
    install of the same code at the same moment)."""
    from .versions import profile_install

    path = FsPath(path)
    return profile_install(
        text=path.read_text(encoding="utf-8"), source=path.name, by=by, search_path=[path.parent]
    ).row


def current_version(code: str) -> ProfileVersion:
    """The newest stored version of a profile, installing the shipped file on first use (two
    first uses at once install it once: see ``rules.versions``).

    Which version is newest is asked on every call; the row itself, with its texts (10–16 kB and
    the parents' as JSON, half of each reading: 0.30 → 0.19 ms on SQLite, 0.55 → 0.35 on
    PostgreSQL, lead22), is read once per process and kept: rows are only ever added
    (``rules.versions``). A first call reads the row as before, a later one only its id,
    version, checksum and load instant, and reads the row again when they differ (a version
    installed since, or a row stored again under an id SQLite reused). Callers share the row
    and only read it."""
    from .versions import install_shipped, newest_version  # (versions imports this module)

    known = _newest.get(code)
    if known is not None:
        newest = _NEWEST(code)
        if newest and newest[0] == (known.pk, known.version, known.checksum, known.loaded_at):
            return known
    row = newest_version(code) or install_shipped(code)
    _newest[code] = row
    return row


_newest: dict[str, ProfileVersion] = {}  # code → the row current_version last answered
# Asked on every call: one statement compiled once a database (``db.fixed``).
_NEWEST = FixedRead(lambda code: ProfileVersion.objects.filter(code=code).order_by("-version")
                    .values_list("pk", "version", "checksum", "loaded_at")[:1], text=True)


def forget_versions() -> None:
    """Drop the kept rows (tests: each has its own database)."""
    _newest.clear()


from xinfang.rules.consumers import consumes  # noqa: E402  (the registry of profile keys)

# The loader acts on these when it reads a file (rules/profile/loader.py): the code and version
# identify the stored row, ``extends`` and ``clocks_remove`` build the merged profile.
consumes("code", "version", "extends", "clocks_remove", by="xinfang.rules.store.install_profile")
