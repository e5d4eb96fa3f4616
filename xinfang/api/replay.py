"""An API write sent twice is done once, where the client names it (``Idempotency-Key``).

A client that sent a write and lost the answer (a timeout, a dropped connection) cannot tell
whether it was done; sending it again must not make a second supervision order, a second meeting's
record, a second version of a document. ``@replayable`` on a view's ``post``: with the header, the
key is taken first in the write's own transaction (its unique row, ``db.inserts.insert_new``, as the
web's forms do), the answer is kept with it, and the same key sent again is answered with the kept
answer (``Idempotent-Replayed: true``) without doing anything; sent for another request (another
path or body), it is refused (409 ``idempotency_conflict``). An answer that is an error keeps
nothing: the request may be corrected and sent with the same key. Without the header a write is
done each time it is sent. Registration (``POST /api/cases/``) keeps its own key with the case
(``cases.services.intake``).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import wraps

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from xinfang.db.inserts import insert_new
from xinfang.security.models import KeptAnswer
from xinfang.security.once import KEEP  # a week, as the forms' tokens

from . import errors as errs
from .views import IDEMPOTENCY_HEADER, REPLAYED, fingerprint, idempotency_key

REPLAY_PARAM = OpenApiParameter(
    IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
    description=("调用方为这次写入取的唯一编号（1–150个字符）：同一编号再次发送不会重复办理，而以第一次"
                 "的应答作答（响应头 Idempotent-Replayed: true）；用于另一请求时拒绝（409）。"),
)
REPLAY_ERRORS = {409: OpenApiResponse(errs.Problem, description="Idempotency-Key 已用于另一请求")}


class _Spent(Exception):
    pass


class _Unkept(Exception):
    def __init__(self, response: Response):
        super().__init__()
        self.response = response


def replayable(post):
    """The view's ``post`` done once per ``Idempotency-Key`` of its user (module docstring).

    Its answer is kept as it was sent, in clear, for ``KEEP``: only for writes whose answer
    names no petitioner (an order, a meeting, a review, a visit, a campaign, a task, a
    document's row, a job). A person's identity is kept encrypted and shown as each reader may
    see it at the time; an answer carrying one would need both, and is not kept this way."""

    @wraps(post)
    def wrapper(self, request, *args, **kwargs):
        key = idempotency_key(request)
        if key is None:
            return post(self, request, *args, **kwargs)
        if isinstance(key, Response):
            return key
        sent = fingerprint({"path": request.path, "body": request.data})
        user_id = request.user.pk
        try:
            with transaction.atomic():
                taken = insert_new(KeptAnswer, [{
                    "user_id": user_id, "key": key, "fingerprint": sent, "status": 0,
                    "body": None, "at": timezone.now()}], unique=("user_id", "key"))
                if not taken:
                    raise _Spent
                response = post(self, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Unkept(response)  # nothing kept: corrected, it may be sent again
                body = json.loads(json.dumps(response.data, cls=JSONEncoder))
                KeptAnswer.objects.filter(pk=taken[0]).update(status=response.status_code,
                                                           body=body)
                return response
        except _Unkept as e:
            return e.response
        except _Spent:
            first = KeptAnswer.objects.filter(user_id=user_id, key=key).first()
            if first is None or first.fingerprint != sent or not first.status:
                why = "此 Idempotency-Key 已用于另一请求。"
                return errs.problem(status.HTTP_409_CONFLICT, "idempotency_conflict", why,
                                    {IDEMPOTENCY_HEADER: why})
            return Response(first.body, status=first.status, headers={REPLAYED: "true"})

    return wrapper


def kept_answers_prune(*, now: datetime) -> int:
    """Forget the answers older than ``KEEP``; returns how many."""
    deleted, _by_model = KeptAnswer.objects.filter(at__lt=now - KEEP).delete()
    return deleted
