"""Importing a hand-filled ledger (L0, L1, L2): every row checked, then written in one
transaction (all or nothing) or, with ``skip_invalid``, the good rows only. The same row never
lands twice (``ImportedRow``); every import is audited with the file's SHA-256.

How an L0 row enters: through ``case_register`` like a typed case — the acting clerk's office,
its numbering, encrypted identity, the first clocks started at the received date (the ledger's
交办时间) — then one history event ``import`` carries the file's SHA-256, the sheet and row, the
ledger's own 编号, 承办单位, 责任人 and 处理情况. A row with a 销号时间 is closed by that event
at that date: its deadline clocks stop there (met or not as they stood), so no clock of a closed
historical case runs or raises warnings. A row without one stays registered and open, its clocks
running from the received date as for any case the office holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from xinfang.audit.services import audit_record
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.facts import case_facts
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput, Registration, case_register
from xinfang.cases.services.base import Invalid, append_event, is_office_of, unit_jurisdiction
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit, switched_off_text, units_switched_off
from xinfang.rules.engine import apply_event
from xinfang.rules.store import current_version, profile_of

from .models import ImportBatch, ImportedRow
from .reading import Issue, LedgerRow, Reading, read_ledger
from .sheets import FileUnreadable
from .uploads import UploadRefused, upload_claim

IMPORT = "import"  # the audit action
SH = ZoneInfo("Asia/Shanghai")
RECEIVED_AT = time(9, 0)  # a ledger gives dates only: received in the morning, closed by evening
CLOSED_AT = time(17, 0)
PROGRESS_EVERY = 100  # rows written between two reports to a background import's job


class ImportRefused(Exception):
    pass


@dataclass
class Outcome:
    filename: str
    sha256: str
    reading: Reading = field(default_factory=Reading)
    dry_run: bool = True
    skip_invalid: bool = False
    committed: bool = False
    batch: ImportBatch | None = None

    @property
    def issues(self) -> list[Issue]:
        return self.reading.issues + [i for r in self.reading.rows for i in r.issues]

    def count(self, status: str) -> int:
        return sum(1 for r in self.reading.rows if r.status == status)

    @property
    def count_exists(self) -> int:
        return self.count("exists")

    @property
    def bad_rows(self) -> list[LedgerRow]:
        return [r for r in self.reading.rows if r.issues]


def ledger_read(*, by: Membership, content: bytes, filename: str) -> Reading:
    """The ledger file read and checked cell by cell as ``ledger_import`` reads it (raises
    ``FileUnreadable``, ``ImportRefused``): how many rows it holds before deciding whether the
    person waits for the import (``imports.views.ledger_confirm``)."""
    return _read(content, filename, import_jurisdiction(by))


def _read(content: bytes, filename: str, jurisdiction: Unit) -> Reading:
    profile = profile_of(current_version(jurisdiction.profile_code))
    return read_ledger(content, filename, jurisdiction=jurisdiction, categories=profile.categories)


def import_jurisdiction(by: Membership) -> Unit:
    """The jurisdiction whose ledger ``by`` may load: a clerk of its petition office."""
    if by is None or not by.is_active or by.role != Role.CLERK:
        raise ImportRefused("台账导入须由受理机关的经办人办理。")
    jurisdiction = by.unit if by.unit.profile_code else unit_jurisdiction(by.unit)
    if jurisdiction is None or not is_office_of(by.unit, Case(jurisdiction=jurisdiction)):
        raise ImportRefused(f"{by.unit}不是信访受理机关，不能导入台账。")
    return jurisdiction


def ledger_preview(*, by: Membership, content: bytes, filename: str) -> Outcome:
    return ledger_import(
        by=by, content=content, filename=filename, dry_run=True, skip_invalid=False
    )


def ledger_import(
    *,
    by: Membership,
    content: bytes,
    filename: str,
    dry_run: bool,
    skip_invalid: bool,
    batch: ImportBatch | None = None,
    ip: str = "",
    at: datetime | None = None,
    reading: Reading | None = None,
    progress: Callable[..., None] | None = None,
) -> Outcome:
    """Read, check and (unless ``dry_run``) write. A dry run (and the page's preview) only reads:
    it checks every cell as registration would (names, phones, categories, dates, places) and
    looks the rows' keys up, but takes no lock and writes nothing, so previewing a large ledger
    never holds up the office's numbering. What only a write could find is reported by the real
    run, which then writes nothing (or, with ``skip_invalid``, skips that row).
    ``reading``: the file already read (``ledger_read``), not read again; ``progress(done,
    total)`` hears how far the write is (the background import, ``jobs.kinds``)."""
    jurisdiction = import_jurisdiction(by)
    at = at or timezone.now()
    outcome = Outcome(
        filename=filename,
        sha256=hashlib.sha256(content).hexdigest(),
        dry_run=dry_run,
        skip_invalid=skip_invalid,
    )
    try:
        outcome.reading = reading if reading is not None else _read(content, filename,
                                                                       jurisdiction)
    except FileUnreadable as e:
        outcome.reading.issues.append(Issue(filename, None, "", "", str(e)))
        return outcome
    if dry_run:
        _check(outcome, jurisdiction=jurisdiction)
        return outcome
    try:
        with transaction.atomic():
            if batch is not None:
                _claim(batch)
            _write(outcome, by=by, jurisdiction=jurisdiction, at=at, batch=batch, ip=ip,
                   progress=progress)
            if dry_run or (outcome.issues and not skip_invalid):
                raise _Rollback
            outcome.committed = True
    except _Rollback:
        for row in outcome.reading.rows:
            if row.status == "created":
                row.status, row.object_id = "new", None
        if batch is not None and not dry_run:
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.FAILED, content="", counts=_counts(outcome)
            )
    return outcome


class _Rollback(Exception):
    pass


def _claim(batch: ImportBatch) -> None:
    """``upload_claim``: the second of two confirmations at once ran over the first's rows,
    wrote its own counts (nothing created) over the first's and audited a second import."""
    try:
        upload_claim(batch)
    except UploadRefused as e:
        raise ImportRefused(str(e)) from None


def _counts(outcome: Outcome) -> dict:
    return {
        "rows": len(outcome.reading.rows),
        "created": outcome.count("created"),
        "exists": outcome.count("exists"),
        "duplicate": outcome.count("duplicate"),
        "invalid": len(outcome.bad_rows),
        "issues": len(outcome.issues),
    }


def _known(rows: list[LedgerRow], jurisdiction: Unit) -> set[tuple[str, str]]:
    keys = [r.key for r in rows if r.key]
    known: set[tuple[str, str]] = set()
    for i in range(0, len(keys), 1000):  # SQLite's bound-parameter limit
        known.update(
            ImportedRow.objects.filter(unit=jurisdiction, key__in=keys[i : i + 1000]).values_list(
                "ledger", "key"
            )
        )
    return known


def _check(outcome: Outcome, *, jurisdiction: Unit) -> None:
    known = _known(outcome.reading.rows, jurisdiction)
    for row in outcome.reading.rows:
        if row.issues:
            row.status = "error"
        elif row.status != "duplicate":
            if (row.layout.code, row.key) in known:
                row.status, row.note = "exists", "此前已导入，跳过"
            else:
                row.status = "new"


def _write(outcome: Outcome, *, by, jurisdiction, at, batch, ip, progress=None) -> None:
    rows = outcome.reading.rows
    known = _known(rows, jurisdiction)
    if batch is None:
        batch = ImportBatch(
            kind=ImportBatch.Kind.LEDGER,
            filename=outcome.filename[:255],
            sha256=outcome.sha256,
            by=by.user,
            membership=by,
            unit=jurisdiction,
        )
    batch.status, batch.skip_invalid = ImportBatch.Status.DONE, outcome.skip_invalid
    batch.done_at, batch.content = at, ""
    batch.save()
    outcome.batch = batch
    for done, row in enumerate(rows):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(rows))
        if row.issues:
            row.status = "error"
            continue
        if row.status == "duplicate":
            continue
        if (row.layout.code, row.key) in known:
            row.status, row.note = "exists", "此前已导入，跳过"
            continue
        writer = WRITERS.get(row.layout.code)
        if writer is None:
            row.issues.append(Issue(row.sheet, row.row, "", "", f"暂不能导入{row.layout.code}台账"))
            row.status = "error"
            continue
        try:
            with transaction.atomic():
                obj_type, obj = writer(
                    row=row, by=by, jurisdiction=jurisdiction, at=at, outcome=outcome
                )
                ImportedRow.objects.create(
                    unit=jurisdiction,
                    ledger=row.layout.code,
                    key=row.key,
                    natural=row.natural[:255],
                    batch=batch,
                    sheet=row.sheet[:100],
                    row=row.row,
                    object_type=obj_type,
                    object_id=obj.pk,
                )
        except Invalid as e:
            for field_name, message in e.errors.items():
                row.issue(_FIELD_COLUMNS.get(field_name.split(".")[-1], ""), message)
            row.status = "error"
        except Refused as e:
            row.issues.append(Issue(row.sheet, row.row, "", "", e.message))
            row.status = "error"
        except IntegrityError:
            # Another import of the same row committed meanwhile: it is there once.
            row.status, row.note = "exists", "同时另有导入写入了此行，跳过"
        else:
            row.status, row.object_id = "created", obj.pk
    batch.counts = _counts(outcome)
    batch.save(update_fields=["counts"])
    audit_record(
        action=IMPORT,
        actor=by,
        object_type="ledger_import",
        object_id=batch.pk,
        ip=ip,
        detail={
            "file": outcome.filename,
            "sha256": outcome.sha256,
            "unit": jurisdiction.name,
            "ledgers": sorted({s.layout.code for s in outcome.reading.sheets if s.layout}),
            "skip_invalid": outcome.skip_invalid,
            **batch.counts,
            "invalid_rows": [f"{r.sheet}!{r.row}" for r in outcome.bad_rows][:200],
        },
    )


_FIELD_COLUMNS = {  # registration's input names → the ledger column at fault
    "name": "name",
    "phone": "phone",
    "id_number": "name",
    "matter": "problem",
    "text": "problem",
    "category": "category",
    "received_at": "assigned_on",
    "township": "address",
    "village": "address",
    "petitioners": "name",
    "demands": "problem",
}


# -- L0: cases -------------------------------------------------------------------------------------


def _places_held(*units: Unit | None) -> None:
    """The row's township, village and responsible unit read again and held as it is written:
    one switched off since the preview (乡镇撤并 between reading the file and confirming it)
    refuses the row, named, as the preview would have."""
    off = units_switched_off(units)
    if off:
        raise Refused("；".join(switched_off_text(u) for u in off) + "。")


def _l0_case(*, row: LedgerRow, by: Membership, jurisdiction: Unit, at: datetime, outcome: Outcome):
    v = row.values
    _places_held(v.get("township_unit"), v.get("village_unit"))
    received = datetime.combine(v["assigned_on"], RECEIVED_AT, tzinfo=SH)
    data = Registration(
        channel=c.Channel.VISIT,
        matter=v["problem"],
        received_at=received,
        petitioners=[
            PetitionerInput(
                name=v["name"],
                phone=v.get("phone") or "",
                address=v.get("address") or "",
                id_number=v.get("id_number") or "",
            )
        ],
        demands=[DemandInput(text=v["problem"], category=v["category"])],
        township=v.get("township_unit"),
        village=v.get("village_unit") if v.get("township_unit") else None,
    )
    case = case_register(by=by, data=data, at=at)
    profile = profile_of(case.profile)
    payload = {
        "event": "imported",
        "ledger": "L0",
        "file": outcome.filename,
        "file_sha256": outcome.sha256,
        "sheet": row.sheet,
        "row": row.row,
        "ledger_number": v.get("number") or "",
        "handling_unit": v.get("unit") or "",
        "responsible": v.get("responsible") or "",
        "handling": v.get("handling") or "",
        "assigned_on": v["assigned_on"].isoformat(),
        "closed_on": v["closed_on"].isoformat() if v.get("closed_on") else None,
        "channel_note": "台账未载信访形式，按来访登记",
    }
    to_state = case.state
    if v.get("closed_on"):
        closed_at = max(datetime.combine(v["closed_on"], CLOSED_AT, tzinfo=SH), received)
        changes = apply_event(case, profile, "closed", closed_at, case_facts(case))
        Case.objects.filter(pk=case.pk).update(
            state=c.State.CLOSED, closed_at=closed_at, version=F("version") + 1
        )
        case.state, case.closed_at = c.State.CLOSED, closed_at
        to_state = c.State.CLOSED
        payload["clocks"] = changes
    append_event(
        case=case,
        type=IMPORT,
        by=by,
        at=at,
        from_state=c.State.REGISTERED,
        to_state=to_state,
        payload=payload,
    )
    return "case", case


# -- L1 / L2: the registers ---------------------------------------------------------------------


def _responsible(name: str, jurisdiction: Unit, cache: dict) -> Unit | None:
    """责任单位 as a unit of the jurisdiction when its name is one (exactly, or with the
    jurisdiction's name before it: "民政局" is "区民政局"/"建安区民政局"); else kept as text."""
    if not name:
        return None
    if name not in cache:
        units = Unit.objects.filter(path__under=jurisdiction.path)
        found = list(units.filter(name=name)[:2])
        if not found:
            found = [
                u
                for u in units.filter(name__endswith=name)[:3]
                if len(u.name) - len(name) <= len(jurisdiction.name)
            ]
        cache[name] = found[0] if len(found) == 1 else None
    return cache[name]


def _register_fields(row: LedgerRow, jurisdiction: Unit, outcome: Outcome) -> dict:
    v = row.values
    cache = outcome.__dict__.setdefault("_units", {})
    unit = _responsible(v.get("unit") or "", jurisdiction, cache)
    _places_held(v.get("township_unit"), v.get("village_unit"), unit)
    locality = v.get("locality") or "".join(x for x in (v.get("township"), v.get("village")) if x)
    return {
        "jurisdiction": jurisdiction,
        "person_name": v["name"],
        "contact": v.get("phone") or "",
        "exited_or_monitored": bool(v.get("poor")),
        "township": v.get("township_unit"),
        "village": v.get("village_unit"),
        "locality_text": locality[:100] if not v.get("village_unit") else "",
        "problem": v["problem"],
        "category": v["category"],
        "responsible_unit": unit,
        "responsible_unit_text": "" if unit else (v.get("unit") or "")[:100],
        "solved": v.get("solved"),
        "guided": v.get("guided"),
        "assisted": v.get("assisted"),
        "dealt_by_law": v.get("dealt_by_law"),
        "stable": v.get("stable"),
        "note": v.get("note") or "",
    }


def _l1_finding(
    *, row: LedgerRow, by: Membership, jurisdiction: Unit, at: datetime, outcome: Outcome
):
    from xinfang.registers.models import ScreeningFinding, Source

    v = row.values
    finding = ScreeningFinding(
        **_register_fields(row, jurisdiction, outcome),
        month=v["screened_on"].replace(day=1),
        screened_on=v["screened_on"],
        is_new=True if v.get("is_new") is None else v["is_new"],
        source=Source.IMPORTED,
        recorded_by=by.user,
    )
    finding.save(force_insert=True)
    return "screening_finding", finding


def _l2_backlog(
    *, row: LedgerRow, by: Membership, jurisdiction: Unit, at: datetime, outcome: Outcome
):
    from xinfang.registers.models import BacklogCase

    v = row.values
    fields = _register_fields(row, jurisdiction, outcome)
    case = _case_of(v["name"], v["first_visit"], jurisdiction)
    if case is not None:
        # The person is the case's, read live (and masked) from it: not copied into the row.
        fields.update(case=case, person_name="", contact="")
    backlog = BacklogCase(
        **fields,
        entry=BacklogCase.Entry.IMPORTED,
        first_petition_on=v["first_visit"],
        reason=v.get("reason") or "",
        owner_leader_text=(v.get("owner") or "")[:100],
        designated_at=at,
        designated_by=by.user,
    )
    backlog.save(force_insert=True)
    return "backlog_case", backlog


def _case_of(name: str, on, jurisdiction: Unit) -> Case | None:
    """The one case of this jurisdiction received that day whose main petitioner has this name
    (typically the same person's L0 row imported before) and that is not yet a backlog case."""
    from xinfang.security.names import name_index

    start = datetime.combine(on, time(0), tzinfo=SH)
    ids = list(
        Case.objects.filter(
            jurisdiction=jurisdiction,
            received_at__gte=start,
            received_at__lt=start + timedelta(days=1),
            petitioner_links__role__in=c.PETITIONING_ROLES,
            petitioner_links__petitioner__name_index=name_index(name),
            backlog__isnull=True,
        )
        .values_list("pk", flat=True)
        .distinct()[:2]
    )
    return Case.objects.get(pk=ids[0]) if len(ids) == 1 else None


WRITERS = {"L0": _l0_case, "L1": _l1_finding, "L2": _l2_backlog}
