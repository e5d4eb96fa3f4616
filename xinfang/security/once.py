"""A form sent twice does its work once (一次填写，一次办理).

A clerk double-clicks 登记, or the browser sends the form again after a slow answer: each send
is a POST of its own, and a write that has no natural key to refuse a second copy (a new case, a
supervision order, a meeting's record) was done twice. Each form such a write comes from carries
a one-time token (``{% once_field %}``, ``once_token``); the view spends it in the transaction of
the write:

    try:
        with form_once(request) as once:
            case = case_register(by=m, data=registration)
            once.answer(reverse("web:case", args=[case.pk]))
    except Repeated as r:
        return repeated(request, r)

The token is taken first (its unique key, ``db.inserts.insert_new``), so a second send waits
for the first to commit and then finds it spent, without doing any of the work; a first send
that failed (bad input, a refusal) rolled the token back with everything else, and the form
drawn again with its errors carries the same token. A form sent without a token (an older page,
a script) is done as before. The API has its own ``Idempotency-Key``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from xinfang.db.inserts import insert_new

from .models import SubmittedForm

FIELD = "once"
KEEP = timedelta(days=7)  # a page left open for longer sends a fresh form
# "<form>.<random>": the form's name on a page of several (the watch entry's review, …), so a
# page drawn again with one form's errors keeps that form's token and gives the others new ones.
_TOKEN = re.compile(r"([a-z_]{0,20})\.[A-Za-z0-9_-]{32}")


def once_token(request: HttpRequest, form: str = "") -> str:
    """The token of the form being drawn: the one it was sent with (drawn again with its errors,
    it is the same filling), else a new one."""
    sent = request.POST.get(FIELD, "") if request.method == "POST" else ""
    match = _TOKEN.fullmatch(sent)
    if match and match.group(1) == form:
        return sent
    return f"{form}.{secrets.token_urlsafe(24)}"


def once_input(request: HttpRequest, form: str = "") -> SafeString:
    """The hidden input carrying ``once_token`` (``{% once_field %}`` in a template)."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD,
                       once_token(request, form))


class Repeated(Exception):
    """This form was sent before and its write is done; ``answer``: where the first send went."""

    def __init__(self, answer: str):
        super().__init__(answer)
        self.answer = answer


class Once:
    def __init__(self) -> None:
        self.url = ""

    def answer(self, url: str) -> None:
        """Where the write sends the user (a second send is sent there too)."""
        self.url = url


class _Spent(Exception):
    pass


@contextmanager
def form_once(request: HttpRequest, *, now: datetime | None = None) -> Iterator[Once]:
    """The write inside runs at most once per form token: in one transaction with the token's
    row; ``Repeated`` if the token was spent by an earlier send."""
    token = request.POST.get(FIELD, "")
    once = Once()
    if not _TOKEN.fullmatch(token):
        yield once
        return
    user_id = request.user.pk
    try:
        with transaction.atomic():
            taken = insert_new(SubmittedForm, [{
                "token": token, "user_id": user_id, "at": now or timezone.now(), "answer": ""}],
                unique=("token",))
            if not taken:
                raise _Spent
            yield once
            if once.url:
                SubmittedForm.objects.filter(pk=taken[0]).update(answer=once.url[:300])
    except _Spent:
        first = SubmittedForm.objects.filter(token=token, user_id=user_id).first()
        raise Repeated(first.answer if first else "") from None


def repeated(request: HttpRequest, error: Repeated) -> HttpResponse:
    """The answer to a form sent again: said once, and sent where the first send went (or back
    to the form's page, emptied)."""
    messages.info(request, _("这份表单已经提交过，未再次办理。"))
    return redirect(error.answer or request.get_full_path())


def form_once_prune(*, now: datetime) -> int:
    """Forget the tokens older than ``KEEP``; returns how many."""
    deleted, _by_model = SubmittedForm.objects.filter(at__lt=now - KEEP).delete()
    return deleted
