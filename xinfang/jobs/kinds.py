"""The job functions that exist today (``settings.XINFANG_JOBS`` names them): the ledgers' exports
(L0–L4), a confirmed ledger import too long to wait on, a case file (一案一档), PDF
conversions, and the audit trail's check. Each goes through the same door as its page: the job
runs as the membership that started it, so it can export, import or build nothing that
membership could not on the page.

A function that accepts ``progress`` passes it on (``progress(done, total)``); one that does not
yet is reported as one step of one."""

from __future__ import annotations

import inspect
import re
import tempfile

from django.http import QueryDict
from django.utils import timezone

from xinfang.audit.services import EXPORT, audit_record
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import case_for, cases_for
from xinfang.org.models import Membership
from xinfang.security.masking import mask_phone

from .registry import Output, Progress


def call_with_progress(fn, progress: Progress, *args, **kwargs):
    """Call ``fn`` with ``progress=`` when its signature takes it (the exports and imports that
    report as they go), without otherwise."""
    try:
        takes = "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes = False
    if takes:
        return fn(*args, progress=progress, **kwargs)
    return fn(*args, **kwargs)


def _written(write, progress: Progress, *args, **kwargs):
    """``write(out, *args, **kwargs)`` into a temporary file, telling ``progress`` as it goes:
    what it returned (``rows``: the rows written) and the file's bytes."""
    with tempfile.TemporaryFile() as out:
        done = call_with_progress(write, progress, out, *args, **kwargs)
        progress(done.rows, done.rows)
        out.seek(0)
        return done, out.read()


def _member(by: Membership | None) -> Membership:
    """The membership the job runs as (read with its account when the job starts,
    ``services.job_run``): its role withdrawn or its account switched off since the job was
    queued, the job runs nothing — as the web and the API refuse such a person's next request."""
    if by is None or not by.is_active:
        raise Refused("发起任务的任职已失效。")
    if not by.user.is_active:
        raise Refused("发起任务的账户已停用。")
    return by


def ledger_l0(*, params: dict, by: Membership | None, progress: Progress) -> Output:
    """L0 (信访事项台账) of the cases ``by`` may see under the ledger page's filters."""
    from xinfang.api.filters import applied_filters
    from xinfang.ledgers.exports import XLSX_CONTENT_TYPE, write_ledger_l0
    from xinfang.ledgers.filters import filter_ledger

    by = _member(by)
    filters = QueryDict(str(params.get("filters", ""))[:4000])
    cases = filter_ledger(cases_for(by), filters, by=by)
    progress(0, None, "正在读取信访件")
    done, data = _written(
        write_ledger_l0, progress, cases, by=by, ip=str(params.get("ip", "")),
        filters=applied_filters(filters), via=str(params.get("via", "job")),
        unmasked=bool(params.get("unmasked")), reason=str(params.get("reason", "")),
    )  # fmt: skip
    today = timezone.localdate().isoformat()
    return Output(f"信访事项台账-{today}.xlsx", XLSX_CONTENT_TYPE, data, f"共 {done.rows} 件",
                  case_ids=done.case_ids)


def ledger_register(*, params: dict, by: Membership | None, progress: Progress) -> Output:
    """L1, L2 or L3 (the registers' ledgers) under the register page's filters, through the
    registers' own door (``ledger_rows``), masked unless unmasked with a reason."""
    from xinfang.ledgers.exports import LEDGER_TITLES, LEDGERS, XLSX_CONTENT_TYPE
    from xinfang.ledgers.sources import filters_of, ledger_rows

    by = _member(by)
    code = str(params.get("code", ""))
    if code not in ("l1", "l2", "l3"):
        raise Refused(f"没有台账“{code}”。")
    filters = QueryDict(str(params.get("filters", ""))[:4000])
    rows = ledger_rows(code, by, filters)
    progress(0, None, "正在读取台账")
    done, data = _written(
        LEDGERS[code], progress, rows, by=by, filters=filters_of(code, filters),
        via=str(params.get("via", "job")), unmasked=bool(params.get("unmasked")),
        reason=str(params.get("reason", "")),
    )  # fmt: skip
    today = timezone.localdate().isoformat()
    title = LEDGER_TITLES[code]
    return Output(f"{title}-{today}.xlsx", XLSX_CONTENT_TYPE, data, f"共 {done.rows} 行")


def ledger_l4(*, params: dict, by: Membership | None, progress: Progress) -> Output:
    """L4 (省级交办信访事项办理情况统计表) of the provincial referrals ``by`` may see, under the
    ledger page's filters or for one week's completed cases (``filters`` holding ``week=``)."""
    from xinfang.api.filters import applied_filters
    from xinfang.ledgers.exports import XLSX_CONTENT_TYPE
    from xinfang.reports.l4 import l4_selection, write_ledger_l4

    by = _member(by)
    filters = QueryDict(str(params.get("filters", ""))[:4000])
    cases, label = l4_selection(by, filters)
    progress(0, None, "正在读取省级交办件")
    done, data = _written(
        write_ledger_l4, progress, cases, by=by, ip=str(params.get("ip", "")),
        filters=applied_filters(filters), via=str(params.get("via", "job")),
        unmasked=bool(params.get("unmasked")), reason=str(params.get("reason", "")),
        period_label=label,
    )  # fmt: skip
    named = filters.get("week") or timezone.localdate().isoformat()
    return Output(f"省级交办信访事项办理情况统计表-{named}.xlsx", XLSX_CONTENT_TYPE, data,
                  f"共 {done.rows} 件", case_ids=done.case_ids)


def ledger_import(*, params: dict, by: Membership | None, progress: Progress) -> Output:
    """A confirmed ledger upload (``params["batch"]``) imported as the clerk confirmed it on the
    preview page: a file too long for the person to wait on (``imports.views.ledger_confirm``).
    The result file lists every row not imported, with the reasons."""
    from xinfang.imports.models import ImportBatch
    from xinfang.imports.services import ImportRefused
    from xinfang.imports.services import ledger_import as run_import
    from xinfang.imports.uploads import UploadRefused, upload_for

    by = _member(by)
    try:
        batch, content = upload_for(by=by, pk=int(params.get("batch", 0)),
                                    kind=ImportBatch.Kind.LEDGER)
    except (UploadRefused, TypeError, ValueError) as e:
        raise Refused(str(e) if isinstance(e, UploadRefused) else "没有这次上传。") from None
    progress(0, None, "正在导入台账")
    try:
        outcome = call_with_progress(
            run_import, progress, by=by, content=content, filename=batch.filename,
            dry_run=False, skip_invalid=bool(params.get("skip_invalid")), batch=batch,
            ip=str(params.get("ip", "")),
        )  # fmt: skip
    except ImportRefused as e:
        raise Refused(str(e)) from None
    lines = [f"文件：{batch.filename}"]
    issues = [_unnamed(i) for i in outcome.issues]
    if not outcome.committed:
        first = "；".join(issues[:3])
        raise Refused(f"“{batch.filename}”有 {len(issues)} 处错误，未导入任何一行：{first}"[:480])
    n = outcome.count
    summary = (f"新建 {n('created')} 条，此前已导入 {n('exists')} 条，"
               f"跳过有误 {len(outcome.bad_rows)} 行")
    lines += [summary, "", *(["跳过的行："] + issues if issues else [])]
    progress(len(outcome.reading.rows), len(outcome.reading.rows))
    return Output(f"导入结果-{batch.filename}.txt", "text/plain; charset=utf-8",
                  ("\n".join(lines) + "\n").encode("utf-8"), summary)


# The import's columns that hold a petitioner's contact: a problem there quotes the cell.
_CONTACT_TITLES = ("电话", "联系方式")


def _unnamed(issue) -> str:
    """An import problem as the job keeps it (its message and result file are stored as they
    are, unlike the encrypted upload): a contact cell's text quoted in it is masked."""
    text = str(issue)
    if any(word in (issue.title or "") for word in _CONTACT_TITLES):
        text = re.sub(r"“([^”]*)”", lambda m: f"“{mask_phone(m.group(1))}”", text)
    return text


def archive(*, params: dict, by: Membership | None, progress: Progress) -> Output:
    """The case file (一案一档) ZIP of one case ``by`` may see."""
    from xinfang.documents.archive import archive_build

    by = _member(by)
    try:
        case = case_for(by, int(params["case_id"]))
    except (KeyError, TypeError, ValueError, Case.DoesNotExist):
        raise Refused("没有这个信访件，或您无权查看。", field="case_id") from None
    progress(0, 1, "正在生成案卷")
    data = call_with_progress(
        archive_build, progress, case=case, by=by, pdf=bool(params.get("pdf", True))
    )
    # As the page's download does: the case file leaves the system.
    audit_record(
        action=EXPORT,
        actor=by,
        object_type="case",
        object_id=case.pk,
        detail={"archive": True, "size": len(data), "via": "job"},
    )
    progress(1, 1)
    return Output(f"{case.number}-案卷.zip", "application/zip", data)


def pdf(*, params: dict, by: Membership | None, progress: Progress) -> None:
    """Convert pending PDF renditions (an issued document's PDF copies) through LibreOffice."""
    from xinfang.documents.services import rendition_pdf_convert

    ids = [int(pk) for pk in params.get("renditions", [])]
    failed = []
    for done, pk in enumerate(ids):
        progress(done, len(ids), "正在转换 PDF")
        row = rendition_pdf_convert(pk)
        if row.status == row.Status.FAILED:
            failed.append(row.error)
    progress(len(ids), len(ids))
    if failed:
        raise Refused(failed[0])
    return None


def audit_verify(*, params: dict, by: Membership | None, progress: Progress) -> Output:
    """The audit trail's chain walked whole and its head held against the checkpoints kept
    outside the database — what the auditor's page checks while one waits, for a trail too long
    to wait on (``XINFANG_AUDIT_VERIFY_WAIT``). The auditor alone, as on the page."""
    from xinfang.audit.checkpoints import checkpoint_verify
    from xinfang.audit.services import audit_verify as chain_verify
    from xinfang.org.choices import Role

    by = _member(by)
    if by.role != Role.AUDITOR:
        raise Refused("只有审计管理员可以校验审计链。")
    progress(0, None, "正在校验审计链")
    chain = chain_verify(progress=progress)
    against = checkpoint_verify()
    lines = [f"审计链：{'完整' if chain.ok else '被破坏'}", chain.message]
    if chain.head_hash:
        lines.append(f"最新记录 #{chain.head_id} 的 MAC：{chain.head_hash}")
    lines += [f"检查点：{'一致' if against.ok else '核对失败'}", against.message]
    verdict = "审计链完整" if chain.ok and against.ok else "审计链被破坏或检查点不符"
    text = (f"审计链校验（{timezone.localtime():%Y-%m-%d %H:%M}）\n" + "\n".join(lines) + "\n")
    return Output(f"审计链校验-{timezone.localdate().isoformat()}.txt",
                  "text/plain; charset=utf-8", text.encode("utf-8"),
                  f"{verdict}：{chain.message}"[:300])


def handover(*, params: dict, by: Membership | None, progress: Progress) -> Output:
    """工作移交 of a unit with more open cases than the page moves while one waits
    (``XINFANG_HANDOVER_WAIT``): each case through ``reassign`` in its own transaction, as
    the page and the command do; the file lists what moved and what could not, and why."""
    from xinfang.cases.services.handover import unit_hand_over
    from xinfang.org.models import Unit

    by = _member(by)
    try:
        old = Unit.objects.get(pk=int(params["old"]))
        new = Unit.objects.get(pk=int(params["new"]))
    except (KeyError, TypeError, ValueError, Unit.DoesNotExist):
        raise Refused("移交单位或接收单位不存在。") from None
    out = unit_hand_over(by=by, old=old, new=new, reason=str(params.get("reason", "")),
                         receiver_name=str(params.get("receiver_name", "")),
                         progress=progress)
    lines = [f"工作移交：{old} → {new}（{timezone.localtime():%Y-%m-%d %H:%M}）", out.summary()]
    lines += [f"已改派 {number}" for number in out.moved]
    lines += [f"未改派 {number}：{why}" for number, why in out.refused]
    return Output(f"工作移交-{old}-{timezone.localdate().isoformat()}.txt",
                  "text/plain; charset=utf-8", ("\n".join(lines) + "\n").encode("utf-8"),
                  out.summary()[:300])
