"""一案一档: one ZIP per case — cover sheet and 卷内目录, every issued document in order (DOCX and,
where converted, PDF), the attachments, the history timeline, the ledger row, and
``manifest.json`` with each file's SHA-256 and the case's version. ``archive_verify`` recomputes
every hash and names the first file that does not match."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator

from django.db.models import Prefetch, prefetch_related_objects

from xinfang.cases.models import Assignment, Attachment, Case, CaseEvent, CasePetitioner
from xinfang.org.models import Membership

from .fill import moment
from .instruments import ARCHIVE_ORDER, INSTRUMENTS
from .models import Format, IssuedDocument, Rendition
from .selectors import audience_for, copy_for, rendition_check
from .wordxml import heading_and_lines

PACKED = (".docx", ".xlsx", ".zip", ".jpg", ".jpeg", ".png")  # ZIPs and images: compressed


def packing(path: str) -> int:
    """How a file goes into a ZIP: one compressed already (a Word or Excel file is a ZIP itself)
    is stored as it is; deflating it again costs time and saves nothing."""
    return zipfile.ZIP_STORED if path.lower().endswith(PACKED) else zipfile.ZIP_DEFLATED


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _with_pdf(docs: list[IssuedDocument], audiences: dict[int, str]) -> None:
    """Convert, here and now, every PDF of these documents not yet made (the command line may
    wait; a page does not call this), each in its copy (``audiences``, by document)."""
    from .services import rendition_pdf_convert, rendition_pdf_ensure

    for doc in docs:
        audience = audiences[doc.pk]
        docx = Rendition.objects.get(document=doc, audience=audience, format=Format.DOCX)
        row = Rendition.objects.filter(document=doc, audience=audience, format=Format.PDF).first()
        if row is None or row.status == Rendition.Status.FAILED:
            row = rendition_pdf_ensure(docx)
        if row.status == Rendition.Status.PENDING:
            rendition_pdf_convert(row.pk)


ARCHIVE_BATCH = 200  # cases whose relations a batch reads at once (``archive_read``)


def archive_read(cases: list[Case]) -> None:
    """What the case file shows of each of ``cases`` (their petitioners, for the audience; the
    issued documents; the attachments; the history; the hand-overs), read once for all of them:
    a week's batch asks one statement per relation, not five for every case in it. A case read
    already is not read again."""
    prefetch_related_objects(
        cases,
        Prefetch("petitioner_links", CasePetitioner.objects.select_related("petitioner"),
                 to_attr="archive_links"),
        Prefetch("issued_documents", IssuedDocument.objects.all(), to_attr="archive_documents"),
        Prefetch("attachments", Attachment.objects.order_by("uploaded_at", "id"),
                 to_attr="archive_attachments"),
        Prefetch("events", CaseEvent.objects.order_by("seq").only(
            "case_id", "seq", "at", "type", "from_state", "to_state"), to_attr="archive_events"),
        Prefetch("assignments", Assignment.objects.order_by("assigned_at", "id").only(
            "case_id", "assigned_at"), to_attr="archive_assignments"),
    )


def archive_batches(cases: list[Case]) -> Iterator[Case]:
    """``cases`` one by one, the relations of each batch of ``ARCHIVE_BATCH`` read before its
    first case is given (``archive_read``): what a batch of case files iterates."""
    for i in range(0, len(cases), ARCHIVE_BATCH):
        batch = cases[i:i + ARCHIVE_BATCH]
        archive_read(batch)
        yield from batch


def _ready(docs: list[IssuedDocument], audiences: dict[int, str]) -> dict[int, list[Rendition]]:
    """The stored files of ``docs``, each in its copy (``audiences``, by document), by
    document: one statement for the case."""
    found: dict[int, list[Rendition]] = {}
    for row in Rendition.objects.filter(
        document__in=docs, audience__in=set(audiences.values()), status=Rendition.Status.READY
    ).order_by("document_id", "format"):
        if row.audience == audiences[row.document_id]:
            found.setdefault(row.document_id, []).append(row)
    return found


def archive_build(*, case: Case, by: Membership, pdf: bool = False) -> bytes:
    """``case`` came through the door (``case_for``); documents in ``by``'s audience. With
    ``pdf`` (and LibreOffice) every document's PDF is made first, and the cover and the history
    timeline are added as PDF too. A batch reads its cases' relations first (``archive_read``)."""
    from xinfang.cases.services.attachments import attachment_download

    from . import pdf as converter

    pdf = pdf and converter.soffice() is not None
    archive_read([case])
    audience = audience_for(case, by, links=case.archive_links)
    files: list[tuple[str, bytes]] = []
    order = {code: i for i, code in enumerate(ARCHIVE_ORDER)}
    docs = sorted(case.archive_documents, key=lambda d: (order.get(d.code, 99), d.version))
    # Each document in its copy: a person who asked for confidentiality after a unit's copy
    # was frozen is read from the masked one (``copy_for``).
    audiences = {doc.pk: copy_for(doc, audience, case.archive_links) for doc in docs}
    if pdf:
        _with_pdf(docs, audiences)
    contents = []
    n = 0
    ready = _ready(docs, audiences) if docs else {}
    for doc in docs:
        for row in ready.get(doc.pk, []):
            row.document = doc  # named if its check fails
            rendition_check(row)  # a tampered stored file does not enter the case file
            n += 1
            name = f"{n:02d}-{doc.code}-{doc.title}-v{doc.version}.{row.format}"
            files.append((f"documents/{name}", bytes(row.content)))
            contents.append(
                f"{n:02d}  {doc.title}（{doc.code} 第{doc.version}版，"
                f"{row.format.upper()}）{moment(doc.issued_at)}"
            )
    for att in case.archive_attachments:
        try:
            with attachment_download(attachment=att, by=by) as f:
                data = f.read()
        except Exception:  # damaged or missing: recorded, not hidden
            contents.append(f"附件 {att.original_name}：文件缺失或已损坏")
            continue
        n += 1
        files.append((f"attachments/{n:02d}-{att.original_name}", data))
        contents.append(f"{n:02d}  附件：{att.original_name}")
    events = [
        f"{e.seq}. {moment(e.at)} {e.type} {e.from_state}→{e.to_state}"
        for e in case.archive_events
    ]
    timeline = heading_and_lines(f"{case.number} 办理记录", events)
    files.append(("history/办理记录.docx", timeline))
    if pdf:
        files.append(("history/办理记录.pdf", converter.docx_to_pdf(timeline)))
    ledger = {
        "编号": case.number,
        "反映问题及主要诉求": case.matter,
        "状态": case.get_state_display(),
        "交办时间": moment(next((a.assigned_at for a in case.archive_assignments), None)),
        "销号时间": moment(case.closed_at),
    }
    files.append(("ledger/台账.json", json.dumps(ledger, ensure_ascii=False, indent=1).encode()))
    cover = heading_and_lines(
        "信访事项案卷",
        [
            f"信访件编号：{case.number}",
            f"信访事项：{case.matter}",
            f"归档时间：{moment(case.archived_at)}",
            "",
            "卷内目录",
            *contents,
            "办理记录",
            "台账",
        ],
    )
    files.insert(0, ("00-封面及卷内目录.docx", cover))
    if pdf:
        files.insert(1, ("00-封面及卷内目录.pdf", converter.docx_to_pdf(cover)))
    manifest = {
        "case": case.number,
        "case_id": case.pk,
        "case_version": case.version,
        "audience": audience,
        "files": [{"path": p, "sha256": _sha(d), "size": len(d)} for p, d in files],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            z.writestr(path, data, packing(path))
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return out.getvalue()


class ArchiveMismatch(Exception):
    pass


def archive_verify(data: bytes) -> dict:
    """The manifest of a case file whose every listed file is present with its SHA-256, and no
    file unlisted; raises ArchiveMismatch naming the file otherwise."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(z.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise ArchiveMismatch("manifest.json：不是有效的案卷文件或缺少清单。") from None
    listed = set()
    for entry in manifest["files"]:
        listed.add(entry["path"])
        try:
            got = z.read(entry["path"])
        except KeyError:
            raise ArchiveMismatch(f"{entry['path']}：清单中有而案卷中缺失。") from None
        if _sha(got) != entry["sha256"]:
            raise ArchiveMismatch(f"{entry['path']}：校验值不符（文件被改动）。")
    extra = sorted(set(z.namelist()) - listed - {"manifest.json"})
    if extra:
        raise ArchiveMismatch(f"{extra[0]}：不在清单中。")
    return manifest


__all__ = [
    "archive_batches", "archive_build", "archive_read", "archive_verify", "ArchiveMismatch",
    "INSTRUMENTS", "Format", "packing",
]
