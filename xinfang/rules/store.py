"""The rules in force: profile versions as stored in the database, and the working calendar with
every administrator-loaded year. Both are cached per process and invalidated when they change."""

from __future__ import annotations

import threading
import time
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Sum

from .calendar import WorkingCalendar, parse_notice
from .models import CalendarYear, ProfileVersion
from .profile import Profile, ProfileError, load_profile, load_profile_text

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
        now = time.monotonic()
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


def _parent_texts(profile: Profile, directory) -> dict[str, str]:
    texts, code = {}, profile.extends
    while code:
        path = directory / f"{code}.yaml"
        if not path.exists():
            path = shipped_profile_path(code)
        texts[code] = path.read_text(encoding="utf-8")
        code = load_profile(path).extends
    return texts


def shipped_profile_path(code: str):
    return settings.XINFANG_PROFILE_DIR / f"{code}.yaml"


@transaction.atomic
def install_profile(*, path, by=None) -> ProfileVersion:
    """Store a profile file as a version, or return the stored row if that version is already in.

    A file whose text changed without a version bump is refused: cases keep the version they were
    accepted under, so a version must mean one text forever.
    """
    profile = load_profile(path)
    text = path.read_text(encoding="utf-8")
    existing = ProfileVersion.objects.filter(code=profile.code, version=profile.version).first()
    if existing:
        if existing.checksum != profile.checksum:
            raise ProfileError.single(
                file=str(path),
                line=1,
                key="version",
                message=f"配置 {profile.code} 内容已改变但版本号仍为 {profile.version}，"
                "请提高版本号",
            )
        return existing
    return ProfileVersion.objects.create(
        code=profile.code,
        version=profile.version,
        name=profile.name,
        text=text,
        checksum=profile.checksum,
        source=path.name,
        loaded_by=by,
        parents=_parent_texts(profile, path.parent),
    )


def current_version(code: str) -> ProfileVersion:
    """The newest stored version of a profile, installing the shipped file on first use."""
    row = ProfileVersion.objects.filter(code=code).order_by("-version").first()
    if row is None:
        row = install_profile(path=shipped_profile_path(code))
    return row


from xinfang.rules.consumers import consumes  # noqa: E402  (the registry of profile keys)

# The loader acts on these when it reads a file (rules/profile/loader.py): the code and version
# identify the stored row, ``extends`` and ``clocks_remove`` build the merged profile.
consumes("code", "version", "extends", "clocks_remove", by="xinfang.rules.store.install_profile")
