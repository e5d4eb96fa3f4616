"""The rules in force: profile versions as stored in the database, and the working calendar with
every administrator-loaded year. Both are cached per process and invalidated when they change."""

from __future__ import annotations

import threading
from functools import lru_cache

from django.conf import settings
from django.db import transaction

from .calendar import WorkingCalendar, parse_notice
from .models import CalendarYear, ProfileVersion
from .profile import Profile, ProfileError, load_profile, load_profile_text

_lock = threading.Lock()
_calendar: WorkingCalendar | None = None


def working_calendar() -> WorkingCalendar:
    global _calendar
    with _lock:
        if _calendar is None:
            loaded = {
                row.year: parse_notice(row.text, source=row.source)
                for row in CalendarYear.objects.all()
            }
            _calendar = WorkingCalendar.shipped(extra=loaded)
        return _calendar


def forget_calendar() -> None:
    global _calendar
    with _lock:
        _calendar = None


@lru_cache(maxsize=64)
def _parsed(code: str, version: int, checksum: str, text: str, source: str) -> Profile:
    return load_profile_text(text, source=source)


def profile_of(version: ProfileVersion) -> Profile:
    return _parsed(version.code, version.version, version.checksum, version.text, version.source)


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
                file=str(path), line=1, key="version",
                message=f"配置 {profile.code} 内容已改变但版本号仍为 {profile.version}，请提高版本号",
            )
        return existing
    return ProfileVersion.objects.create(
        code=profile.code, version=profile.version, name=profile.name, text=text,
        checksum=profile.checksum, source=path.name, loaded_by=by,
    )


def current_version(code: str) -> ProfileVersion:
    """The newest stored version of a profile, installing the shipped file on first use."""
    row = ProfileVersion.objects.filter(code=code).order_by("-version").first()
    if row is None:
        row = install_profile(path=shipped_profile_path(code))
    return row
