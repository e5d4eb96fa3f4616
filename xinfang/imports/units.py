"""The unit tree from a file: one row per unit, 单位路径 (省/市/县区/乡镇/村 joined by "/") and
类型. Units already in the tree are kept as they are; missing ones are created under their
parents (parents first, whatever the file's order); importing the same file again changes
nothing. One audit entry per import names the file's SHA-256 and every unit created."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from xinfang.audit.services import PERMISSION_CHANGE, audit_record
from xinfang.org.choices import LEVEL_ORDER, Level, Role, UnitKind
from xinfang.org.models import Membership, Unit, children_locked

from .cells import label, text
from .models import ImportBatch
from .sheets import UNCOMPUTED, FileUnreadable, is_blank, is_footnote, read_grids
from .uploads import upload_claim

# 类型 → (level, kind); None: the level of the unit above (a bureau or office sits at its parent's
# level).
TYPES: dict[str, tuple[str | None, str]] = {
    "省": (Level.PROVINCE, UnitKind.GOVERNMENT),
    "市": (Level.CITY, UnitKind.GOVERNMENT),
    "县区": (Level.COUNTY, UnitKind.GOVERNMENT),
    "乡镇": (Level.TOWNSHIP, UnitKind.TOWNSHIP),
    "村": (Level.VILLAGE, UnitKind.VILLAGE),
    "部门": (None, UnitKind.BUREAU),
    "信访机构": (None, UnitKind.PETITION_OFFICE),
}
_TYPE_ALIASES = {
    "省份": "省",
    "市州": "市",
    "地市": "市",
    "县": "县区",
    "区": "县区",
    "县(区)": "县区",
    "县(市、区)": "县区",
    "乡": "乡镇",
    "镇": "乡镇",
    "街道": "乡镇",
    "乡镇(街道)": "乡镇",
    "社区": "村",
    "村(社区)": "村",
    "行政村": "村",
    "单位": "部门",
    "信访局": "信访机构",
    "信访办": "信访机构",
}
PATH_LABELS = {"单位路径", "路径", "单位"}
TYPE_LABELS = {"类型", "单位类型"}


class UnitsRefused(Exception):
    pass


@dataclass
class UnitRow:
    sheet: str
    row: int
    path: tuple[str, ...]
    type: str
    status: str = ""  # "new", "exists" or "error"
    error: str = ""
    note: str = ""

    @property
    def where(self) -> str:
        return f"{self.sheet} 第{self.row}行"


@dataclass
class UnitsOutcome:
    filename: str
    sha256: str
    rows: list[UnitRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "sheet 第n行 X列（单位路径）：reason"
    created: list[str] = field(default_factory=list)
    dry_run: bool = True
    hidden: list[str] = field(default_factory=list)  # hidden sheets: named, not read

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse(content: bytes, filename: str, outcome: UnitsOutcome) -> None:
    rows: list[UnitRow] = outcome.rows
    errors: list[str] = outcome.errors
    for grid in read_grids(content, filename):
        if grid.hidden:
            outcome.hidden.append(grid.sheet)
            continue
        # A units file has two columns; find the row naming them (title rows may stand above).
        at = None
        for i, (_n, values) in enumerate(grid.rows[:10]):
            labels = [label(v) for v in values]
            if set(labels) & PATH_LABELS and set(labels) & TYPE_LABELS:
                at = i
                path_col = next(j for j, t in enumerate(labels) if t in PATH_LABELS)
                type_col = next(j for j, t in enumerate(labels) if t in TYPE_LABELS)
                break
        if at is None:
            if any(not is_blank(v) for _n, v in grid.rows) or grid.uncomputed:
                errors.append(f"{grid.sheet}：未找到“单位路径”和“类型”两列的表头")
                if grid.uncomputed:
                    errors.append(f"{grid.sheet}：{grid.uncomputed_cells()}{UNCOMPUTED}")
            continue
        col = {path_col: "单位路径", type_col: "类型"}
        letter = {i: _letter(i) for i in col}
        for n, values in grid.rows[at + 1 :]:
            formulas = [i for i in col if i in grid.uncomputed.get(n, ())]
            if formulas:  # no result kept: named, not read as a blank (or skipped as one)
                i = formulas[0]
                row = UnitRow(grid.sheet, n, (), "", status="error",
                              error=f"{grid.sheet} 第{n}行 {letter[i]}列（{col[i]}）：{UNCOMPUTED}")
                rows.append(row)
                errors.append(row.error)
                continue
            if is_blank(values):
                continue
            if is_footnote(values):
                break
            raw_path = text(values[path_col] if path_col < len(values) else None)
            raw_type = label(values[type_col] if type_col < len(values) else None)
            parts = tuple(p.strip() for p in raw_path.replace("／", "/").split("/") if p.strip())
            kind = _TYPE_ALIASES.get(raw_type, raw_type)
            row = UnitRow(grid.sheet, n, parts, kind)
            where = f"{grid.sheet} 第{n}行 "
            if not parts:
                row.error = f"{where}{letter[path_col]}列（单位路径）：未填写单位路径"
            elif any(len(p) > Unit._meta.get_field("name").max_length for p in parts):
                row.error = f"{where}{letter[path_col]}列（单位路径）：单位名称超过100字"
            elif kind not in TYPES:
                row.error = (
                    f"{where}{letter[type_col]}列（类型）：“{text(values[type_col])}”不是有效类型"
                    f"（应为{'、'.join(TYPES)}之一）"
                )
            rows.append(row)
            if row.error:
                row.status = "error"
                errors.append(row.error)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _children(parent: Unit | None, cache: dict, *, lock: bool = False) -> dict[str, Unit]:
    """The units directly under ``parent`` by name (the first made, where two share one), read
    in one query the first time the parent is asked about: a province's tree of 35,000 rows
    was 35,000 look-ups, 15 s (1M data, lead25). ``lock``: the parent's row is held first
    (``org.models.children_locked``), until the import commits, so that a second import (or
    ``unit_create``) of the same children at once waits and then reads the units this one
    created, rather than creating them again."""
    key = parent.pk if parent else None
    if key not in cache:
        if lock:
            children_locked(parent)
        cache[key] = {}
        for unit in Unit.objects.filter(parent=parent).order_by("-pk"):
            cache[key][unit.name] = unit  # descending: the first made is kept
    return cache[key]


def _find(parent: Unit | None, name: str, cache: dict, *, lock: bool = False) -> Unit | None:
    return _children(parent, cache, lock=lock).get(name)


def units_import(
    *,
    content: bytes,
    filename: str,
    by: Membership | None,
    dry_run: bool,
    actor_name: str | None = None,
    ip: str = "",
    held: ImportBatch | None = None,
) -> UnitsOutcome:
    """Check every row and, unless ``dry_run`` or any row is wrong, create the missing units in
    one transaction. ``by`` is the system administrator (None from the command line, which then
    names ``actor_name``). ``held``: the page's pending upload this import confirms, claimed
    first (``upload_claim``: a confirmation sent twice is refused) and marked done with it."""
    if by is not None and (not by.is_active or by.role != Role.SYSADMIN):
        raise UnitsRefused("只有系统管理员可以导入单位。")
    digest = hashlib.sha256(content).hexdigest()
    outcome = UnitsOutcome(filename=filename, sha256=digest, dry_run=dry_run)
    try:
        _parse(content, filename, outcome)
    except FileUnreadable as e:
        outcome.errors = [str(e)]
        return outcome
    if not outcome.rows and not outcome.errors:
        outcome.errors = ["文件中没有单位"]
    try:
        with transaction.atomic():
            if held is not None and not dry_run:
                upload_claim(held)
            _apply(outcome, by=by)
            if outcome.errors or dry_run:
                raise _Rollback
            if held is not None:
                ImportBatch.objects.filter(pk=held.pk).update(
                    status=ImportBatch.Status.DONE, content="", done_at=timezone.now(),
                    counts={"created": len(outcome.created)})
            batch = ImportBatch.objects.create(
                kind=ImportBatch.Kind.UNITS,
                filename=filename[:255],
                sha256=digest,
                size=len(content),
                by=by.user if by else None,
                membership=by,
                status=ImportBatch.Status.DONE,
                done_at=timezone.now(),
                counts={"created": len(outcome.created), "rows": len(outcome.rows)},
            )
            audit_record(
                action=PERMISSION_CHANGE,
                actor=by,
                actor_name=actor_name,
                object_type="unit_import",
                object_id=batch.pk,
                ip=ip,
                detail={
                    "import": "units",
                    "file": filename,
                    "sha256": digest,
                    "created": outcome.created,
                    "rows": len(outcome.rows),
                },
            )
    except _Rollback:
        pass
    return outcome


class _Rollback(Exception):
    pass


def _apply(outcome: UnitsOutcome, *, by) -> None:
    """Create what is missing, shortest paths first so parents exist before their children. On
    a dry run the same work is done and rolled back, so the preview shows exactly this."""
    cache: dict = {}
    for row in sorted((r for r in outcome.rows if not r.error), key=lambda r: len(r.path)):
        parent: Unit | None = None
        for depth, name in enumerate(row.path[:-1]):
            found = _find(parent, name, cache, lock=not outcome.dry_run)
            if found is None:
                row.error = (
                    f"{row.where}：上级单位“{'/'.join(row.path[: depth + 1])}”不存在，"
                    "也未在文件中列出"
                )
                break
            parent = found
        if row.error:
            row.status = "error"
            outcome.errors.append(row.error)
            continue
        name = row.path[-1]
        level, kind = TYPES[row.type]
        if level is None:
            if parent is None:
                row.error = f"{row.where}：{row.type}“{name}”须设在某个单位之下"
            else:
                level = parent.level
        elif parent is not None and LEVEL_ORDER.index(Level(level)) < parent.level_rank():
            row.error = (
                f"{row.where}：{Level(level).label}级单位“{name}”不能设在"
                f"{parent.get_level_display()}级单位“{parent.name}”之下"
            )
        existing = _find(parent, name, cache, lock=not outcome.dry_run)
        if not row.error and existing is not None:
            if existing.level != level:
                # The tree's shape would differ from the file's: the administrator decides.
                row.error = (
                    f"{row.where}：“{'/'.join(row.path)}”已存在，但为"
                    f"{existing.get_level_display()}级单位，与文件中的“{row.type}”不符"
                )
            else:
                # Kept as it is, whatever kind the file says (an office may be a 乡村振兴局),
                # and switched off if it is: the import does not switch a unit on again.
                row.status = "exists"
                notes = []
                if existing.kind != kind:
                    notes.append(f"类型为{existing.get_kind_display()}")
                if not existing.is_active:
                    notes.append("已停用（导入不启用单位）")
                if notes:
                    row.note = f"已存在，{'，'.join(notes)}，保持不变"
                continue
        if not row.error and parent is not None and not parent.is_active:
            # As on the units page (``unit_create``): nothing new under a unit switched off.
            row.error = (f"{row.where}：上级单位“{'/'.join(row.path[:-1])}”已停用，"
                         "不能在其下新建单位")
        if row.error:
            row.status = "error"
            outcome.errors.append(row.error)
            continue
        row.note = _elsewhere(parent, name, level, cache)
        unit = Unit.objects.create(name=name, level=level, kind=kind, parent=parent)
        _children(parent, cache)[name] = unit
        row.status = "new"
        outcome.created.append("/".join(row.path))


def _elsewhere(parent: Unit | None, name: str, level: str, cache: dict) -> str:
    """For a unit about to be made: a unit of its name and level already under another parent
    of the same grandparent — a village under another township of the county, a township of
    another county of the city — said in the row. The file may mean to move it (乡镇撤并);
    the import never moves a unit (its place decides which office's cases its members see):
    it makes a new one here and the other stays where it is. Counties do have two villages of
    one name, so this is said, not refused. One read of each grandparent's grandchildren."""
    if parent is None or parent.parent_id is None:
        return ""
    key = ("grandchildren", parent.parent_id)
    if key not in cache:
        cache[key] = {}
        rows = (Unit.objects.filter(parent__parent_id=parent.parent_id).order_by("path")
                .values_list("name", "level", "parent_id", "parent__name"))
        for n, lvl, parent_id, parent_name in rows:
            cache[key].setdefault((n, lvl), []).append((parent_id, parent_name))
    others = [p for pid, p in cache[key].get((name, level), []) if pid != parent.pk]
    if not others:
        return ""
    return (f"同名单位已在“{'”、“'.join(others)}”下，导入不移动单位："
            "此处新建，原单位保持不变")
