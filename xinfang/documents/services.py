"""Writes of the documents app: issuing an instrument (frozen), correcting it (a new version with
its reason), converting it to PDF, and replacing a template. Reads are in ``selectors.py``."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from xinfang.audit.services import audit_record
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.services.upload_checks import office_problem
from xinfang.notify.services import notify_supervision_order
from xinfang.org.choices import Role
from xinfang.org.models import Membership

from . import pdf
from .fill import unit_clear
from .instruments import INSTRUMENTS, TEMPLATE_FIELDS, Instrument, NotIssued, instrument
from .models import Audience, DocumentTemplate, Format, IssuedDocument, Rendition
from .rendering import TemplateRefused, check_template, render, repository_template, sha256

log = logging.getLogger(__name__)

# Who may write a correction or issue a supervision order (others only read what was issued).
CORRECTORS = {Role.CLERK, Role.APPROVER, Role.CHIEF, Role.UNIT_HANDLER}
# Who may ask for an instrument to be issued now, ahead of its step's task: who does the case's
# work, as for a correction. An inspector or another reader downloads it once issued.
ISSUERS = CORRECTORS
SUPERVISORS = {Role.APPROVER, Role.CHIEF, Role.INSPECTOR}
PARAM_LABELS = {"required_action": "督办要求", "due_date": "办结时限", "problem": "督办事由"}


def template_in_force(code: str) -> tuple[int, bytes]:
    """(version, DOCX) of the template in force: the latest upload, else the repository's (0)."""
    row = DocumentTemplate.objects.filter(code=code).order_by("-version").first()
    if row is None:
        return 0, repository_template(code)
    return row.version, bytes(row.content)


def _instrument(code: str) -> Instrument:
    try:
        return instrument(code)
    except KeyError as exc:
        raise Refused(str(exc.args[0]), field="code") from None


def document_issue(
    *,
    case: Case,
    code: str,
    by: Membership | None,
    at: datetime | None = None,
    params: dict | None = None,
    reason: str = "",
) -> IssuedDocument:
    """Freeze instrument ``code`` of ``case``: the case record at the step that issued it, filled
    into the template in force, once per audience. Asked again, the frozen version is returned
    as is. A ``reason`` writes a correction: the next version, from the record as it is now.
    The case row is locked, so two requests at once make one version, not two."""
    spec = _instrument(code)
    at = at or timezone.now()
    reason = (reason or "").strip()
    params = {k: str(v).strip() for k, v in (params or {}).items() if k in spec.params}
    fresh_order = bool(spec.params)
    if fresh_order:
        if by is None or by.role not in SUPERVISORS:
            raise Refused("督办单由分管领导、主要领导或督查人员出具。")
        for name in ("required_action", "due_date"):
            if not params.get(name):
                raise Refused(f"请填写{PARAM_LABELS[name]}。", field=name)
    if reason and by is not None and by.role not in CORRECTORS:
        raise Refused("只有经办人、领导或承办单位可以更正文书。", field="reason")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        latest = (
            IssuedDocument.objects.filter(case=case, code=spec.code).order_by("-version").first()
        )
        if latest is not None and not reason and not fresh_order:
            return latest
        if reason and latest is None:
            raise Refused("该文书尚未出具，无需更正。", field="reason")
        try:
            source = spec.ready(case)
        except NotIssued as exc:
            raise Refused(str(exc), field="code") from None
        version, template = template_in_force(spec.template)
        user = by.user if by is not None else None
        filled = dict(params, _at_dt=at, _issuer=(user.full_name or user.username) if user else "")
        doc = IssuedDocument.objects.create(
            case=case, code=spec.code, title=spec.title,
            version=(latest.version + 1) if latest else 1, reason=reason or (
                "再次督办" if fresh_order and latest else ""),
            source=source, params=params, case_version=case.version,
            template_version=version, template_sha256=sha256(template), issued_at=at,
            issued_by=user, unit_clear=unit_clear(case),
        )  # fmt: skip
        pending = []
        for audience in Audience.values:
            try:
                data = render(template, spec.fill(case, audience, source, filled))
            except TemplateRefused as exc:
                raise Refused(
                    f"第{version}版模板“{spec.template}”无法填写（{exc}），请系统管理员更换模板。",
                    field="code",
                ) from None
            Rendition.objects.create(
                document=doc, audience=audience, format=Format.DOCX, content=data,
                sha256=sha256(data), size=len(data), created_at=at,
            )  # fmt: skip
            if pdf.soffice() is not None:
                pending.append(Rendition.objects.create(
                    document=doc, audience=audience, format=Format.PDF,
                    status=Rendition.Status.PENDING, created_at=at,
                ).pk)  # fmt: skip
        audit_record(
            action="document_issue", actor=by, object_type="case", object_id=case.pk,
            detail={"code": spec.code, "version": doc.version, "reason": reason,
                    "template_version": version},
            at=at,
        )  # fmt: skip
        if fresh_order:  # the supervision order reaches the unit's inbox and channels
            notify_supervision_order(case=case, params=params, at=at)
        if pending:
            pdf_schedule(pending, by=by)
    return doc


def document_issue_requested(
    *, case: Case, code: str, by: Membership | None, at: datetime | None = None
) -> tuple[IssuedDocument, bool]:
    """A user's request to issue instrument ``code`` now (the page's 出具 button, the API's
    ``issue`` action, the command): frozen by ``by`` at ``at``, audited as theirs, where the
    step's task has not frozen it yet; one already frozen is returned as it is. (The download
    froze it on its first GET before: a link followed, prefetched or sent from another site
    issued a legal instrument in the reader's name.) Returns (document, whether made now)."""
    _instrument(code)
    before = (
        IssuedDocument.objects.filter(case=case, code=code)
        .order_by("-version").values_list("pk", flat=True).first()
    )  # fmt: skip
    if before is not None:
        return IssuedDocument.objects.get(pk=before), False
    if by is not None and by.role not in ISSUERS:
        raise Refused("文书由经办人、领导或承办单位出具；出具后即可下载。", field="code")
    at = at or timezone.now()
    doc = document_issue(case=case, code=code, by=by, at=at)
    return doc, doc.issued_at == at  # else frozen a moment ago, by the task or another request


def document_correct(
    *, case: Case, code: str, by: Membership, reason: str, at: datetime | None = None
) -> IssuedDocument:
    if not (reason or "").strip():
        raise Refused("更正文书须写明理由。", field="reason")
    return document_issue(case=case, code=code, by=by, at=at, reason=reason)


# -- PDF -------------------------------------------------------------------------------------------

STALE_CLAIM_SECONDS = 600


def rendition_pdf_convert(rendition_id: int) -> Rendition:
    """Convert one pending PDF rendition from its DOCX. The work is claimed with a conditional
    update, so two workers (a background thread and a CLI call) never both convert it; a claim
    older than ten minutes (a worker that died) may be taken over. Once READY it never changes."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=STALE_CLAIM_SECONDS)
    claimed = (
        Rendition.objects.filter(
            pk=rendition_id, format=Format.PDF, status=Rendition.Status.PENDING
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now)
    )
    row = Rendition.objects.get(pk=rendition_id)
    if not claimed:
        return row
    source = Rendition.objects.get(
        document_id=row.document_id, audience=row.audience, format=Format.DOCX
    )
    try:
        data = pdf.docx_to_pdf(bytes(source.content))
    except (pdf.PdfUnavailable, pdf.PdfFailed) as exc:
        Rendition.objects.filter(pk=row.pk, claimed_at=now).update(
            status=Rendition.Status.FAILED, error=str(exc)[:300]
        )
        row.refresh_from_db()
        return row
    Rendition.objects.filter(pk=row.pk, claimed_at=now, status=Rendition.Status.PENDING).update(
        status=Rendition.Status.READY, content=data, sha256=sha256(data), size=len(data)
    )
    row.refresh_from_db()
    return row


def rendition_pdf_ensure(row: Rendition) -> Rendition:
    """Make sure a PDF rendition exists for a DOCX one (LibreOffice installed after issue, or a
    failed conversion to retry): a pending row, converted in the background."""
    if pdf.soffice() is None:
        raise Refused(pdf.UNAVAILABLE, field="format")
    pdf_row, created = Rendition.objects.get_or_create(
        document_id=row.document_id,
        audience=row.audience,
        format=Format.PDF,
        defaults={"status": Rendition.Status.PENDING, "created_at": timezone.now()},
    )
    if pdf_row.status == Rendition.Status.FAILED:
        Rendition.objects.filter(pk=pdf_row.pk, status=Rendition.Status.FAILED).update(
            status=Rendition.Status.PENDING, claimed_at=None, error=""
        )
        pdf_row.refresh_from_db()
        created = True
    if created or _abandoned(pdf_row):
        pdf_schedule([pdf_row.pk])
    return pdf_row


def _abandoned(row: Rendition) -> bool:
    """A pending PDF whose conversion was left: claimed by a worker that died before it
    finished (the claim older than ``STALE_CLAIM_SECONDS``, which the next conversion takes
    over), or never claimed that long after it was asked for (its job was lost with its
    worker). Asked for again, it is scheduled again: a job more than needed converts nothing
    twice (the claim)."""
    if row.status != Rendition.Status.PENDING:
        return False
    stale = timezone.now() - timezone.timedelta(seconds=STALE_CLAIM_SECONDS)
    return (row.claimed_at or row.created_at) < stale


def pdf_schedule(ids: list[int], *, by: Membership | None = None, force: bool = False):
    """Convert outside the request: a ``pdf`` job for ``xinfang worker`` (the job row shows its
    progress to ``by``), queued in the caller's transaction. No page waits on LibreOffice (a
    conversion takes seconds). ``XINFANG_PDF_BACKGROUND = False`` leaves the rows pending for
    ``xinfang document … --pdf``, the case file's build, or a later request."""
    if not ids or (not force and not getattr(settings, "XINFANG_PDF_BACKGROUND", True)):
        return None
    from xinfang.jobs.services import job_start

    return job_start(kind="pdf", by=by, params={"renditions": list(ids)})


def document_issue_at_step(
    *, case_id: int, codes: list[str], membership_id: int | None, at: datetime, reason: str = ""
) -> dict:
    """The task queued by the issuing transitions (``hooks.after_transition``): freeze each
    instrument as the case stood at its step. Idempotent: an instrument already frozen (by an
    earlier delivery of this task, or by a download that came first) is left as it is; one the
    case no longer qualifies for is skipped with its reason. ``reason`` (a reassignment): an
    instrument issued before is corrected — its next version, unless one was frozen at or after
    ``at`` already (a retried task makes one version) — and one never issued is issued."""
    by = (
        Membership.objects.select_related("user", "unit").filter(pk=membership_id).first()
        if membership_id
        else None
    )
    done: dict[str, object] = {}
    for code in codes:
        try:
            case = Case.objects.get(pk=case_id)
            latest = (IssuedDocument.objects.filter(case=case, code=code)
                      .order_by("-version").first())
            again = reason if latest is not None and latest.issued_at < at else ""
            doc = document_issue(case=case, code=code, by=by, at=at, reason=again)
        except Refused as e:
            done[code] = f"skipped: {e.message}"
        else:
            done[code] = doc.version
    return done


# -- templates -------------------------------------------------------------------------------------


def template_replace(
    *,
    code: str,
    content: bytes,
    by: Membership,
    original_name: str = "",
    note: str = "",
    at: datetime | None = None,
) -> DocumentTemplate:
    """The system administrator puts the office's own template in force: refused if it lacks a
    field any instrument filled from it needs (named), kept as the next version otherwise."""
    if by is None or by.role != Role.SYSADMIN:
        raise Refused("文书模板由系统管理员维护。")
    code = (code or "").strip()
    if code not in TEMPLATE_FIELDS:
        raise Refused(
            f"没有文书模板“{code}”；可选：{'、'.join(sorted(TEMPLATE_FIELDS))}", field="code"
        )
    if not content:
        raise Refused("请上传 DOCX 模板文件。", field="content")
    # Checked as a case's attachment is before python-docx reads every part whole: a part
    # inflating to gigabytes, macros, or a relationship fetching a remote template would go
    # into every document issued from it.
    problem = office_problem(content)
    if problem:
        raise Refused(problem, field="content")
    try:
        check_template(content, TEMPLATE_FIELDS[code])
    except TemplateRefused as exc:
        raise Refused(str(exc), field=exc.field) from None
    at = at or timezone.now()
    with transaction.atomic():
        # One writer at a time per code: the unique (code, version) refuses the loser of a race,
        # who is told which version came first (uploaded against the one before it).
        last = DocumentTemplate.objects.filter(code=code).order_by("-version").first()
        version = (last.version + 1) if last else 1
        try:
            with transaction.atomic():
                row = DocumentTemplate.objects.create(
                    code=code, version=version, content=content, sha256=sha256(content),
                    original_name=original_name[:255], note=note[:200], uploaded_at=at,
                    uploaded_by=by.user,
                )  # fmt: skip
        except IntegrityError:
            raise Refused(
                f"另一位管理员刚刚启用了“{code}”的第{version}版模板；请核对后再上传。",
                field="content",
            ) from None
        audit_record(
            action="document_template",
            actor=by,
            object_type="document_template",
            object_id=row.pk,
            detail={"code": code, "version": row.version, "sha256": row.sha256},
            at=at,
        )
    return row


__all__ = [
    "document_issue",
    "document_correct",
    "rendition_pdf_convert",
    "rendition_pdf_ensure",
    "template_replace",
    "template_in_force",
    "INSTRUMENTS",
]
