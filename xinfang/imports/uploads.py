"""An upload held between its preview and the confirmation: encrypted under the key ring (a
ledger holds names and phones), owned by the membership that uploaded it, emptied once used."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from django.db import transaction

from xinfang.db import locks
from xinfang.jobs.models import Job
from xinfang.org.models import Membership
from xinfang.security.crypto import get_keyring

from .models import ImportBatch

MAX_BYTES = 20 * 1024 * 1024


class UploadRefused(Exception):
    pass


def upload_hold(*, by: Membership, kind: str, filename: str, content: bytes) -> ImportBatch:
    if not content:
        raise UploadRefused("上传的文件是空的。")
    if len(content) > MAX_BYTES:
        raise UploadRefused(f"文件超过{MAX_BYTES // 1024 // 1024}MB，请分成几个文件导入。")
    if not filename.lower().endswith((".xlsx", ".csv")):
        raise UploadRefused("只能导入 .xlsx 或 .csv 文件。")
    token = get_keyring().encrypt(base64.b64encode(content).decode("ascii"))
    return ImportBatch.objects.create(
        kind=kind,
        filename=filename[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        by=by.user,
        membership=by,
        unit=None,
        status=ImportBatch.Status.PENDING,
        content=token,
    )


def upload_claim(batch: ImportBatch) -> None:
    """The held upload, still pending, under its row lock until the import that confirms it
    commits. A confirmation sent twice at once read it pending twice (``upload_for``): the
    second import ran after the first and audited a second import. Now the second waits here
    and is refused."""
    if not ImportBatch.objects.select_for_update().filter(
        pk=batch.pk, status=ImportBatch.Status.PENDING
    ).exists():
        raise UploadRefused(f"“{batch.filename}”这次上传已经导入或已放弃，未再次导入。")


def upload_queued(batch: ImportBatch, *, kind: str, start: Callable[[], Job]) -> tuple[Job, bool]:
    """The background job ``kind`` importing the held upload ``batch``: the one already queued or
    running for it, or the one ``start()`` queues now (then ``True``). A confirmation sent twice
    (a double click, a retried request) is sent to the first one's job instead of queuing a
    second that would fail at its claim. The two are serialised by the upload's queue lock, not
    its row, which the running job holds until its import commits."""
    with transaction.atomic():
        locks.held(locks.UPLOAD_QUEUE, batch.pk)
        job = (Job.objects.filter(kind=kind, params__batch=batch.pk,
                                  status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
               .order_by("pk").first())
        if job is not None:
            return job, False
        if not ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PENDING).exists():
            raise UploadRefused(f"“{batch.filename}”这次上传已经导入或已放弃，未再次导入。")
        return start(), True


def upload_for(*, by: Membership, pk: int, kind: str) -> tuple[ImportBatch, bytes]:
    """The pending upload ``pk`` of this very membership, and its bytes."""
    batch = ImportBatch.objects.filter(
        pk=pk, kind=kind, membership=by, status=ImportBatch.Status.PENDING
    ).first()
    if batch is None or not batch.content:
        raise UploadRefused("没有待确认的这次上传（可能已导入、已放弃或不是您上传的）。")
    content = base64.b64decode(get_keyring().decrypt(batch.content))
    if hashlib.sha256(content).hexdigest() != batch.sha256:
        raise UploadRefused("上传的文件已被改动，请重新上传。")
    return batch, content
