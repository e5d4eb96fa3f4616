"""Reads of the documents app, every one through the case door (``cases.selectors.case_for``):
a user who may not see the case gets ``Case.DoesNotExist`` (a 404), never its documents."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import prefetch_related_objects

from xinfang.audit.services import DOWNLOAD, audit_record
from xinfang.cases.disclosure import is_confidential, may_reveal_petitioner, reveal_reach
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import case_for
from xinfang.db.fixed import FixedRead
from xinfang.org.models import Membership

from .instruments import INSTRUMENTS, NotIssued
from .models import Audience, Format, IssuedDocument, Rendition
from .rendering import sha256


def audience_for(case: Case, by: Membership | None, links: list | None = None) -> str:
    """Which copy ``by`` may read: every petitioner in clear only for whom the disclosure rule
    reveals them all; a handling unit gets the copy with confidential petitioners masked.
    ``links``: the case's petitioner links with their people, when already read."""
    reach = reveal_reach(case, by)
    if links is None:
        links = list(case.petitioner_links.select_related("petitioner"))
    revealed = [
        may_reveal_petitioner(case, link.petitioner, by, link=link, reach=reach) for link in links
    ]
    if links and all(revealed):
        return Audience.FULL
    if any(revealed) or (links and reach.value == "ordinary"):
        return Audience.UNIT
    return Audience.MASKED


def copy_for(doc: IssuedDocument, audience: str, links: list) -> str:
    """The copy of ``doc`` to hand to a reader of ``audience``: the handling units' copy only
    while everyone it shows in clear may still be shown so; a person who asked for
    confidentiality after it was frozen (a later petition, a merge) is read from the masked
    copy instead. ``links``: the case's petitioner links with their people."""
    if audience != Audience.UNIT:
        return audience
    secret = {link.petitioner_id for link in links if is_confidential(link.petitioner, link)}
    if secret and (doc.unit_clear is None or secret & set(doc.unit_clear)):
        return Audience.MASKED
    return audience


@dataclass(frozen=True)
class Available:
    code: str
    title: str
    issued: IssuedDocument | None  # the latest version, if frozen already
    reason_not: str  # why it cannot be issued yet ("" when it can)
    versions: int


# Every version frozen of a case's instruments: one statement compiled once (``db.fixed``).
_ISSUED = FixedRead(lambda pk: IssuedDocument.objects.filter(case_id=pk)
                    .order_by("code", "version"))


def documents_of(case: Case) -> list[Available]:
    """Every instrument of the case: frozen ones with their latest version, the rest with what
    the procedure still has to do before they can be issued. ``case`` came through the door."""
    # What the instruments' checks read, once for all of them (already there on the case page).
    prefetch_related_objects(
        [case], "documents__deliveries", "warning_notices", "assignments", "reports"
    )
    frozen: dict[str, list[IssuedDocument]] = {}
    for doc in _ISSUED.of(case):
        frozen.setdefault(doc.code, []).append(doc)
    rows = []
    for code, spec in INSTRUMENTS.items():
        versions = frozen.get(code, [])
        reason = ""
        if not versions:
            try:
                spec.ready(case)
            except NotIssued as exc:
                reason = str(exc)
        rows.append(
            Available(code, spec.title, versions[-1] if versions else None, reason, len(versions))
        )
    return rows


def issued_versions(case: Case, code: str) -> list[IssuedDocument]:
    return list(IssuedDocument.objects.filter(case=case, code=code).order_by("version"))


def document_file(
    *,
    by: Membership | None,
    case_id: int,
    code: str,
    fmt: str = Format.DOCX,
    version: int | None = None,
    via: str = "web",
    ip: str = "",
) -> Rendition:
    """The file a user downloads: through the door, the copy their disclosure allows, the
    version asked (default: the latest). A read: an instrument not frozen yet is not frozen
    here (``DocumentNotIssued``: the step's task freezes it, or a user asks for it with a POST,
    ``services.document_issue_requested``). Each download is audited (identities leave the
    system). Raises Case.DoesNotExist outside the user's scope, Refused when not issued or not
    ready."""
    from .services import rendition_pdf_ensure

    case = case_for(by, case_id)
    if fmt not in Format.values:
        raise Refused(f"格式须为 docx 或 pdf，不是“{fmt}”。", field="format")
    if code not in INSTRUMENTS:
        raise Refused(f"没有文书“{code}”；可选：{'、'.join(INSTRUMENTS)}", field="code")
    docs = IssuedDocument.objects.filter(case=case, code=code)
    doc = docs.filter(version=version).first() if version else docs.order_by("-version").first()
    if doc is None:
        if version:
            raise Refused(f"该文书没有第{version}版。", field="version")
        spec = INSTRUMENTS[code]
        try:
            spec.ready(case)
        except NotIssued as exc:  # the procedure has not reached its step: say which
            raise Refused(str(exc), field="code") from None
        raise DocumentNotIssued(
            f"{spec.code} {spec.title}尚未出具：办理步骤完成后由后台自动出具；"
            "也可以现在出具（出具后即固定保存，记入审计）。",
            field="code",
        )
    links = list(case.petitioner_links.select_related("petitioner"))
    audience = copy_for(doc, audience_for(case, by, links), links)
    row = Rendition.objects.filter(document=doc, audience=audience, format=fmt).first()
    if fmt == Format.PDF and (row is None or row.status == Rendition.Status.FAILED):
        docx = Rendition.objects.get(document=doc, audience=audience, format=Format.DOCX)
        row = rendition_pdf_ensure(docx)
    if row.status == Rendition.Status.READY:
        rendition_check(row)
    audit_record(
        action=DOWNLOAD,
        actor=by,
        object_type="case",
        object_id=case.pk,
        ip=ip,
        detail={
            "document": code,
            "version": doc.version,
            "audience": audience,
            "format": fmt,
            "via": via,
        },
    )
    return row


class RenditionDamaged(Refused):
    pass


class DocumentNotIssued(Refused):
    """Ready to be issued, not frozen yet: a download does not freeze it (a GET changes
    nothing); the page offers the POST that does."""


def rendition_check(row: Rendition) -> None:
    """A stored file is served only if it still has the SHA-256 it was frozen with: a row edited
    in the database is refused, naming the document, never handed out as the issued one."""
    if sha256(bytes(row.content or b"")) != row.sha256:
        doc = row.document
        raise RenditionDamaged(
            f"{doc.code} {doc.title} 第{doc.version}版（{row.format.upper()}）的校验值不符，"
            "文件可能已被改动，不予下载；请联系安全管理员核查。",
            field="sha256",
        )


def filename(row: Rendition) -> str:
    doc = row.document
    return f"{doc.case.number}-{doc.code}-{doc.title}-v{doc.version}.{row.format}"
