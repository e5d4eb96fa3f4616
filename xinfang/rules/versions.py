"""Profile versions: installing a file as a new version, keeping the shipped files installed, and
moving open cases to a newer version on an administrator's explicit word.

A version means one text forever: cases keep the version they were accepted under, and new cases
take the newest stored version of their jurisdiction's profile code. Installing is therefore
refused for a version number already stored with another text, and for a number below the newest
stored one. Two installs of one code at once queue on a per-code lock (PostgreSQL advisory lock;
SQLite's IMMEDIATE transactions already admit one writer), so one of them wins and the other sees
its row — never two rows, never an IntegrityError.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef
from django.utils import timezone

from xinfang.db import locks
from xinfang.db.counts import row_count

from .deadlines import SHANGHAI
from .engine import base_due, clock_rules, due_changed, move_due, reextended
from .models import ProfileVersion
from .profile import ClockRule, Profile, ProfileError, load_profile_text
from .store import profile_of, working_calendar

PROFILE_MIGRATED = "profile_migrated"
_MAX_CHAIN = 8


# -- reading a file as a candidate version --------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A profile file that loaded without a problem, with the parent texts it is checked against
    (and that are pinned with it when it is installed)."""

    profile: Profile
    text: str
    parents: dict[str, str]
    source: str


@lru_cache(maxsize=64)
def _top_level(text: str) -> MappingProxyType:
    """The top level of a profile text, read only; parsed once per text and process (a whole
    YAML parse is ~50 ms: the versions page and the unit form asked a shipped file's
    ``extends``, ``version`` or ``name`` several times a request)."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):  # RecursionError: thousands of [ nested
        data = None
    return MappingProxyType(data if isinstance(data, dict) else {})


def _top(text: str, key: str, kind: type):
    """The top-level ``key`` of a profile text when it is a ``kind``, else None."""
    value = _top_level(text).get(key)
    return value if isinstance(value, kind) else None


def _extends_of(text: str) -> str | None:
    return _top(text, "extends", str)


def newest_version(code: str) -> ProfileVersion | None:
    return ProfileVersion.objects.filter(code=code).order_by("-version").first()


def _parent_texts(text: str, search_path: Sequence[Path]) -> dict[str, str]:
    """The texts of the profiles ``text`` extends: a file beside it (the command line) first, then
    the newest stored version with the parents pinned with it, then a shipped file."""
    texts: dict[str, str] = {}
    code = _extends_of(text)
    while code and code not in texts and len(texts) < _MAX_CHAIN:
        beside = next((d / f"{code}.yaml" for d in search_path if (d / f"{code}.yaml").is_file()),
                      None)  # fmt: skip
        stored = None if beside else newest_version(code)
        if stored is not None:
            texts[code] = stored.text
            for parent, parent_text in (stored.parents or {}).items():
                texts.setdefault(parent, parent_text)
            break
        path = beside or Path(settings.XINFANG_PROFILE_DIR) / f"{code}.yaml"
        if not path.is_file():
            break  # the loader reports "no profile … to extend" with the line
        texts[code] = path.read_text(encoding="utf-8")
        code = _extends_of(texts[code])
    return texts


def profile_candidate(*, text: str, source: str, search_path: Sequence[Path] = ()) -> Candidate:
    """Check a profile file; raises :class:`ProfileError` with every problem (file, line, key)."""
    text = text.removeprefix("\ufeff")
    parents = _parent_texts(text, [Path(p) for p in search_path])
    profile = _loaded(
        text, source, tuple(str(p) for p in search_path), tuple(sorted(parents.items()))
    )
    return Candidate(profile, text, parents, source)


@lru_cache(maxsize=32)
def _loaded(text: str, source: str, search_path: tuple, parents: tuple) -> Profile:
    """Loading is pure-Python YAML (a few hundred ms a file): the versions page and ``doctor``
    check the same shipped files again and again. A file with mistakes raises and is not kept."""
    return load_profile_text(text, source=source, search_path=search_path, parents=dict(parents))


def _version_line(text: str) -> int:
    match = re.search(r"^version\s*:", text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


# -- installing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    candidate: Candidate
    row: ProfileVersion | None  # None for a dry run that would install
    created: bool
    previous: ProfileVersion | None  # the newest version stored before
    dry_run: bool = False

    @property
    def open_cases_on_older(self) -> int:
        """Open cases that keep an older version until an administrator migrates them."""
        from xinfang.cases.choices import OPEN_STATES
        from xinfang.cases.models import Case

        profile = self.candidate.profile
        return Case.objects.filter(
            profile__code=profile.code, profile__version__lt=profile.version,
            state__in=OPEN_STATES,
        ).count()  # fmt: skip


def _lock_code(code: str) -> None:
    """Serialise installs of one code until the transaction ends."""
    locks.held(locks.RULE_CODE, zlib.crc32(code.encode("utf-8")) - 2**31)  # a signed 32-bit key


def _refuse(candidate: Candidate, message: str) -> ProfileError:
    return ProfileError.single(
        file=candidate.source, line=_version_line(candidate.text), key="version", message=message
    )


def _check_against_stored(candidate: Candidate) -> tuple[ProfileVersion | None, ...]:
    """(the stored row of this version if its text is the same, the newest stored row); raises
    for a version number already used by another text or below the newest stored one."""
    profile = candidate.profile
    previous = newest_version(profile.code)
    same = ProfileVersion.objects.filter(code=profile.code, version=profile.version).first()
    if same is not None:
        if same.text.removeprefix("\ufeff") != candidate.text:
            raise _refuse(
                candidate,
                f"配置 {profile.code} 第{profile.version}版已安装，内容与本文件不同："
                f"一个版本号只对应一份内容，请提高版本号（已安装的最高版本为第{previous.version}版）。",
            )
        return same, previous
    if previous is not None and profile.version < previous.version:
        raise _refuse(
            candidate,
            f"配置 {profile.code} 已安装第{previous.version}版，新文件的版本号须高于"
            f"{previous.version}（本文件为第{profile.version}版）。",
        )
    return None, previous


def _store(candidate: Candidate, *, by) -> tuple[ProfileVersion, bool, ProfileVersion | None]:
    profile = candidate.profile
    with transaction.atomic():
        _lock_code(profile.code)
        same, previous = _check_against_stored(candidate)
        if same is not None:
            return same, False, previous
        try:
            with transaction.atomic():  # a savepoint: the guard below must not end the caller's
                row = ProfileVersion.objects.create(
                    code=profile.code, version=profile.version, name=profile.name,
                    text=candidate.text, checksum=profile.checksum,
                    source=candidate.source[:255], loaded_by=by, parents=candidate.parents,
                )  # fmt: skip
        except IntegrityError:
            # Only reachable where the lock is not taken (another backend's writer without it):
            # the other install won; this one sees its row, or is refused if the text differs.
            same, previous = _check_against_stored(candidate)
            if same is None:
                raise
            return same, False, previous
        return row, True, previous


def profile_install(
    *,
    text: str,
    source: str,
    by=None,
    ip: str = "",
    search_path: Sequence[Path] = (),
    dry_run: bool = False,
    actor_name: str | None = None,
) -> Installed:
    """Check a profile file and store it as a new version (audited), or say what installing it
    would do (``dry_run``). A file identical to a stored version is a no-op. Raises
    :class:`ProfileError` for a file with mistakes or a version number the store refuses."""
    candidate = profile_candidate(text=text, source=source, search_path=search_path)
    if dry_run:
        same, previous = _check_against_stored(candidate)
        return Installed(candidate, same, False, previous, dry_run=True)
    user = getattr(by, "user", by)
    with transaction.atomic():
        row, created, previous = _store(candidate, by=user)
        if created:
            from xinfang.audit.services import PROFILE_CHANGE, audit_record

            profile = candidate.profile
            audit_record(
                action=PROFILE_CHANGE, actor=user, object_type="profile_version", object_id=row.pk,
                ip=ip, actor_name=actor_name if user is None else None,
                detail={"change": "profile_install", "code": profile.code,
                        "version": profile.version, "name": profile.name, "source": row.source,
                        "previous": previous.version if previous else None,
                        "checksum": profile.checksum},
            )  # fmt: skip
    return Installed(candidate, row, created, previous)


def install_shipped(code: str) -> ProfileVersion:
    """The shipped file of ``code`` as a stored version (first use of a code: no audit entry, as
    no one chose it; ``xinfang profile sync`` records what it installs)."""
    path = Path(settings.XINFANG_PROFILE_DIR) / f"{code}.yaml"
    candidate = profile_candidate(
        text=path.read_text(encoding="utf-8"), source=path.name, search_path=[path.parent]
    )
    if candidate.profile.code != code:
        raise ProfileError.single(file=path.name, line=1, key="code", message=f"应为 {code}")
    return _store(candidate, by=None)[0]


# -- the shipped files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedState:
    code: str
    file_version: int | None  # None: the file does not load (``problem`` says why)
    stored_version: int | None
    state: str  # installed | newer | missing | changed | older | broken
    problem: str = ""
    name: str = ""  # the profile's Chinese name (the code for a file that does not load)

    @property
    def pending(self) -> bool:
        return self.state in ("newer", "missing")


def shipped_files(directory: Path | None = None) -> list[Path]:
    """The shipped profile files, each after the files it extends (national first)."""
    directory = Path(directory or settings.XINFANG_PROFILE_DIR)
    paths = {p.stem: p for p in sorted(directory.glob("*.yaml"))}

    def depth(code: str) -> int:
        n, seen = 0, set()
        while code in paths and code not in seen and n < _MAX_CHAIN:
            seen.add(code)
            code = _extends_of(paths[code].read_text(encoding="utf-8")) or ""
            n += 1
        return n

    return [paths[code] for code in sorted(paths, key=lambda c: (depth(c), c))]


def shipped_states(directory: Path | None = None) -> list[ShippedState]:
    """Each shipped file against the newest stored version of its code (for ``doctor``)."""
    out = []
    for path in shipped_files(directory):
        text = path.read_text(encoding="utf-8")
        stored = newest_version(path.stem)
        stored_version = stored.version if stored else None
        try:
            profile = profile_candidate(text=text, source=path.name, search_path=[path.parent])
        except ProfileError as e:
            out.append(ShippedState(path.stem, None, stored_version, "broken", str(e), path.stem))
            continue
        version = profile.profile.version
        if stored is None:
            state = "missing"
        elif version > stored.version:
            state = "newer"
        elif version < stored.version:
            state = "older"
        else:
            state = "installed" if stored.text.removeprefix("\ufeff") == profile.text else "changed"
        out.append(ShippedState(profile.profile.code, version, stored_version, state, "",
                                profile.profile.name))  # fmt: skip
    return out


@dataclass(frozen=True)
class StaleParent:
    code: str
    version: int
    parent: str
    parent_version: int


def stale_parents() -> list[StaleParent]:
    """Newest versions whose pinned parent text is not the parent's newest stored version: their
    new cases still run under the parent's older rules until the child's version is raised."""
    newest: dict[str, ProfileVersion] = {}
    for row in ProfileVersion.objects.order_by("code", "-version"):
        newest.setdefault(row.code, row)
    out = []
    for row in newest.values():
        for parent, text in (row.parents or {}).items():
            current = newest.get(parent)
            if current is not None and current.text.removeprefix("\ufeff") != text.removeprefix(
                "\ufeff"
            ):
                out.append(StaleParent(row.code, row.version, parent, current.version))
    return sorted(out, key=lambda s: (s.code, s.parent))


@dataclass(frozen=True)
class Synced:
    code: str
    state: str  # installed | up_to_date | refused
    version: int | None
    message: str = ""


def profile_sync(*, directory: Path | None = None, by=None) -> list[Synced]:
    """Install every shipped file whose version is above the newest stored one (parents first).
    A refused file is reported and the others still installed."""
    results = []
    for path in shipped_files(directory):
        stored = newest_version(path.stem)
        file_version = _file_version(path)
        if stored is not None and file_version is not None and file_version < stored.version:
            # An administrator installed a higher version of a shipped code: theirs stays.
            results.append(Synced(path.stem, "up_to_date", stored.version,
                                  f"已安装更高的第{stored.version}版"))  # fmt: skip
            continue
        try:
            result = profile_install(
                text=path.read_text(encoding="utf-8"), source=path.name, by=by,
                search_path=[path.parent], actor_name="xinfang profile sync",
            )  # fmt: skip
        except ProfileError as e:
            results.append(Synced(path.stem, "refused", file_version, str(e)))
            continue
        state = "installed" if result.created else "up_to_date"
        results.append(Synced(result.candidate.profile.code, state, result.row.version))
    return results


def _file_version(path: Path) -> int | None:
    return _top(path.read_text(encoding="utf-8"), "version", int)


# -- reading the stored versions ------------------------------------------------------------------


def profile_versions(code: str | None = None):
    """Every stored version, newest first within each code, with its open and total case counts."""
    from xinfang.cases.choices import OPEN_STATES
    from xinfang.cases.models import Case

    cases = Case.objects.filter(profile=OuterRef("pk"))
    rows = ProfileVersion.objects.select_related("loaded_by").annotate(
        # each off the (profile, state) index alone: joined and grouped, every case was
        # sorted with its version's whole text (6.5 s at 200k cases on SQLite)
        open_cases=row_count(cases.filter(state__in=sorted(OPEN_STATES))),
        all_cases=row_count(cases),
    )
    if code is not None:
        rows = rows.filter(code=code)
    return rows.order_by("code", "-version")


def parent_name(row: ProfileVersion) -> str:
    """The name of the profile ``row`` extends, as pinned with it (empty for a root profile)."""
    code = profile_of(row).extends
    if not code:
        return ""
    return _top((row.parents or {}).get(code) or "", "name", str) or code


def profile_names(codes: Sequence[str]) -> dict[str, str]:
    """code → the Chinese name of its newest stored version, else of its shipped file."""
    names = {}
    for code, name in ProfileVersion.objects.filter(code__in=codes).order_by("code", "version")\
            .values_list("code", "name"):  # fmt: skip
        names[code] = name
    for code in codes:
        path = Path(settings.XINFANG_PROFILE_DIR) / f"{code}.yaml"
        if code not in names and path.is_file():
            name = _top(path.read_text(encoding="utf-8"), "name", str)
            if name is not None:
                names[code] = name
    return names


def version_by_ref(ref: str) -> ProfileVersion | None:
    """``code`` (the newest) or ``code@version``."""
    code, _sep, version = ref.partition("@")
    if not version:
        return newest_version(code)
    if not version.isdigit():
        return None
    return ProfileVersion.objects.filter(code=code, version=int(version)).first()


# -- moving open cases to a newer version ---------------------------------------------------------


@dataclass(frozen=True)
class ClockMove:
    name: str
    label: str
    old_due: datetime | None  # None: a clock the new version adds, started at a past event
    new_due: datetime | None  # None: the new version has no such clock; the clock is kept
    old_limit: tuple[int, str] | None
    new_limit: tuple[int, str] | None
    provisional: bool = False
    explanation: tuple = ()
    started_at: datetime | None = None  # set for a clock the new version adds

    @property
    def moved(self) -> bool:
        return self.new_due is not None and self.new_due != self.old_due

    @property
    def started(self) -> bool:
        return self.started_at is not None

    def as_payload(self) -> dict:
        def iso(at):
            return at.astimezone(SHANGHAI).isoformat() if at else None

        payload = {
            "clock": self.name,
            "label": self.label,
            "old_due": iso(self.old_due),
            "new_due": iso(self.new_due),
            "old_limit": list(self.old_limit) if self.old_limit else None,
            "new_limit": list(self.new_limit) if self.new_limit else None,
        }
        if self.started:
            payload["started"] = iso(self.started_at)
        return payload


@dataclass
class CaseMove:
    case: object
    from_version: int
    moves: list[ClockMove] = field(default_factory=list)


@dataclass
class MigrationPlan:
    code: str
    target: ProfileVersion
    cases: list[CaseMove]

    @property
    def clocks_moved(self) -> int:
        return sum(1 for c in self.cases for m in c.moves if m.moved)


def _recompute(clock, rule: ClockRule, profile: Profile, calendar) -> tuple:
    due = base_due(profile, rule.name, clock.started_at, rule.amount, rule.unit, rule.roll,
                   calendar)
    new_due, provisional, steps = reextended(clock, profile, due)
    return new_due, provisional, tuple(steps)


def _clock_moves(clocks, profile: Profile, calendar) -> list[ClockMove]:
    rules = {rule.name: rule for rule in clock_rules(profile)}
    moves = []
    for clock in sorted(clocks, key=lambda k: k.name):
        rule = rules.get(clock.name)
        old_limit = (clock.amount, clock.unit)
        if rule is None:
            moves.append(ClockMove(clock.name, clock.label, clock.due_at, None, old_limit, None))
            continue
        new_due, provisional, steps = _recompute(clock, rule, profile, calendar)
        new_limit = (rule.amount, rule.unit)
        if new_due != clock.due_at or new_limit != old_limit or rule.label != clock.label:
            moves.append(ClockMove(clock.name, rule.label, clock.due_at, new_due, old_limit,
                                   new_limit, provisional, steps))  # fmt: skip
    return moves


def _past_events(case, rows) -> list[tuple[str, datetime]]:
    """The case's event keys since its last reopening, each at the instant the clocks heard it:
    the recorded ``event_at`` where the event happened before it was recorded (a delivery, a
    contact), the receipt for the registration, else the entry's time."""
    events: list[tuple[str, datetime]] = []
    for type_, at, payload in rows:
        if type_ == "reopen":
            events = []
        key = payload.get("event") if isinstance(payload, dict) else None
        if not key:
            continue
        if payload.get("event_at"):
            instant = datetime.fromisoformat(payload["event_at"])
        elif key == "registered":
            instant = case.received_at
        else:
            instant = at
        events.append((key, instant))
    return events


def _clock_starts(case, events, have: set[str], profile: Profile) -> list:
    """Clocks of ``profile`` the case never had, whose start event is already in its history and
    whose stop event is not: started at that event's instant, as ``apply_event`` would have
    started them had the case been accepted under this version (unsaved)."""
    from xinfang.cases.facts import case_facts

    from .engine import CLOSING_EVENTS, _names, new_clock

    weekly = {f"report_back:{r.name}": r.weekly for r in profile.report_back if r.weekly}
    facts = None
    started = []
    for rule in clock_rules(profile):
        if rule.name in have:
            continue
        start = next((at for key, at in events if _names(key, rule.start)), None)
        if start is None:
            continue
        if any(_names(key, rule.stop) for key, _at in events):
            continue
        if rule.kind == "deadline" and any(key in CLOSING_EVENTS for key, _at in events):
            continue
        facts = facts if facts is not None else case_facts(case)
        if not rule.when.matches(facts):
            continue
        started.append(new_clock(case, rule, start, weekly=weekly.get(rule.name)))
    return started


def _start_moves(clocks) -> list[ClockMove]:
    return [ClockMove(k.name, k.label, None, k.due_at, None, (k.amount, k.unit), k.provisional,
                      tuple(k.explanation), started_at=k.started_at) for k in clocks]  # fmt: skip


def _histories(case_ids) -> dict[int, list]:
    from xinfang.cases.models import CaseEvent

    rows: dict[int, list] = {}
    events = (CaseEvent.objects.filter(case_id__in=case_ids).order_by("case_id", "seq")
              .values_list("case_id", "type", "at", "payload"))  # fmt: skip
    for case_id, type_, at, payload in events:
        rows.setdefault(case_id, []).append((type_, at, payload))
    return rows


def _clock_names(case_ids) -> dict[int, set[str]]:
    from xinfang.cases.models import Clock

    names: dict[int, set[str]] = {}
    for case_id, name in Clock.objects.filter(case_id__in=case_ids).values_list("case_id", "name"):
        names.setdefault(case_id, set()).add(name)
    return names


def _open_cases(code: str, target: ProfileVersion):
    from xinfang.cases.choices import OPEN_STATES
    from xinfang.cases.models import Case

    return Case.objects.filter(
        profile__code=code, profile__version__lt=target.version, state__in=OPEN_STATES
    )


def migration_plan(*, target: ProfileVersion, limit: int | None = None) -> MigrationPlan:
    """What moving every open case of ``target.code`` on an older version to ``target`` would
    change: each case's unstopped clocks recomputed under the new version's limits."""
    from xinfang.cases.models import Clock

    profile, calendar = profile_of(target), working_calendar()
    # The demands are read with the cases: a new clock's condition may test their categories.
    cases = (_open_cases(target.code, target).select_related("profile")
             .prefetch_related("demands").order_by("pk"))  # fmt: skip
    if limit is not None:
        cases = cases[:limit]
    cases = list(cases)
    clocks: dict[int, list] = {}
    live = Clock.objects.filter(case__in=cases).exclude(status=Clock.Status.STOPPED)
    for clock in live:
        clocks.setdefault(clock.case_id, []).append(clock)
    pks = [case.pk for case in cases]
    histories, names = _histories(pks), _clock_names(pks)
    return MigrationPlan(target.code, target, [
        CaseMove(case, case.profile.version,
                 _clock_moves(clocks.get(case.pk, []), profile, calendar)
                 + _start_moves(_clock_starts(case, _past_events(case, histories.get(case.pk, [])),
                                              names.get(case.pk, set()), profile)))
        for case in cases
    ])  # fmt: skip


def open_cases_to_migrate(target: ProfileVersion) -> int:
    return _open_cases(target.code, target).count()


def profile_migrate(
    *,
    target: ProfileVersion,
    by=None,
    ip: str = "",
    at: datetime | None = None,
    actor_name: str | None = None,
) -> MigrationPlan:
    """Move every open case of ``target.code`` on an older version to ``target``: recompute its
    unstopped clocks under the new limits, write one ``profile_migrated`` history entry per case
    (with the clocks that moved) and one audit entry. Clocks the new version no longer has are
    kept as they are and named in the entry. Clocks the new version adds start at the past event
    that starts them, unless the event that stops them has happened too. Two administrators
    migrating at once: the second finds the cases already moved and migrates none of them
    twice."""
    from xinfang.audit.services import PROFILE_CHANGE, audit_record
    from xinfang.cases.models import Case, Clock
    from xinfang.cases.services.base import append_event

    at = at or timezone.now()
    user = getattr(by, "user", by)
    membership = by if hasattr(by, "user") else None
    profile, calendar = profile_of(target), working_calendar()
    with transaction.atomic():
        # Lock the cases in a fixed order, as every transition does; the filter is checked again
        # on the locked rows, so cases another administrator has just moved drop out. Only the
        # case rows are locked (``of``): the profile rows the filter joins stay free for the
        # registrations that reference them.
        pks = list(
            _open_cases(target.code, target).select_for_update(of=("self",)).order_by("pk")
            .values_list("pk", flat=True)
        )  # fmt: skip
        cases = list(Case.objects.filter(pk__in=pks).select_related("profile")
                     .prefetch_related("demands").order_by("pk"))  # fmt: skip
        live: dict[int, list] = {}
        for clock in Clock.objects.filter(case_id__in=pks).exclude(status=Clock.Status.STOPPED):
            live.setdefault(clock.case_id, []).append(clock)
        plan = MigrationPlan(target.code, target, [])
        histories, names = _histories(pks), _clock_names(pks)
        starting = []
        for case in cases:
            moves = _clock_moves(live.get(case.pk, []), profile, calendar)
            new = _clock_starts(case, _past_events(case, histories.get(case.pk, [])),
                                names.get(case.pk, set()), profile)
            starting += new
            by_name = {clock.name: clock for clock in live.get(case.pk, [])}
            rules = {rule.name: rule for rule in clock_rules(profile)}
            for move in moves:
                if move.new_due is None:
                    continue
                clock, rule = by_name[move.name], rules[move.name]
                moved = move_due(clock, move.new_due)  # its alerts owed again if it moved
                clock.provisional = move.provisional
                clock.explanation = list(move.explanation)
                clock.amount, clock.unit, clock.roll = rule.amount, rule.unit, rule.roll
                clock.label, clock.alert_roles = rule.label, list(rule.alert)
                clock.due_soon_hours, clock.seed = rule.due_soon_hours, rule.seed[:40]
                clock.save(update_fields=["provisional", "explanation", "amount", "unit", "roll",
                                          "label", "alert_roles", "due_soon_hours", "seed",
                                          *moved])  # fmt: skip
            moves += _start_moves(new)
            from_version = case.profile.version
            Case.objects.filter(pk=case.pk).update(profile=target)
            case.profile = target
            append_event(
                case=case, type=PROFILE_MIGRATED, by=membership, at=at,
                actor_role=membership.role if membership else "system",
                payload={"profile": target.name, "from_version": from_version,
                         "to_version": target.version,
                         "clocks": [move.as_payload() for move in moves],
                         "migrated_by": user.get_username() if user else actor_name},
            )  # fmt: skip
            plan.cases.append(CaseMove(case, from_version, moves))
        Clock.objects.bulk_create(starting)
        due_changed([case.pk for case in cases])
        audit_record(
            action=PROFILE_CHANGE, actor=user, object_type="profile_version",
            object_id=target.pk, ip=ip, at=at, actor_name=actor_name if user is None else None,
            detail={"change": "profile_migrate", "code": target.code, "version": target.version,
                    "cases": len(plan.cases), "clocks_moved": plan.clocks_moved},
        )  # fmt: skip
    return plan
