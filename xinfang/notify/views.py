"""Pages: the inbox (every case-reading membership), the channels (system administrator) and the
dead letters (security administrator). Views parse and call; the rules are in the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.cases.errors import Refused
from xinfang.cases.paging import CappedPaginator, asked_page
from xinfang.org.choices import Role
from xinfang.web.context import membership_required, page, role_required

from .admin_services import (
    channel_create,
    channel_test,
    channel_update,
    dead_letter_requeue,
    notice_dismiss,
    notice_read,
)
from .forms import ChannelForm
from .messages import due_of
from .models import Channel, Delivery
from .selectors import inbox_newest

PAGE_SIZE = 50
SHOWS = {"open": gettext_lazy("待处理"), "unread": gettext_lazy("未读"),
         "all": gettext_lazy("全部（含已销号）")}


def _back(request: HttpRequest) -> HttpResponse:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("notify:inbox")


@membership_required
def inbox_page(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    if show not in SHOWS:
        show = "open"
    # The page shows no total, only whether a next page exists: the count stops one row past
    # the asked page (an approver's 13,800 notices after a province's first sweep were each
    # tested through the door to count them, 60-75 ms at 1M cases).
    # The rows are looked for among the newest notices (``selectors._newest``), which counts
    # them as far as the page needs when it finds them there.
    number = request.GET.get("page")
    cap = PAGE_SIZE * min(asked_page(number), 10_000)
    rows, holds = inbox_newest(request.membership, show=show, upto=cap + 1)
    paginator = CappedPaginator(rows, PAGE_SIZE, cap=cap, at_least=cap + 1 if holds else 0)
    page_obj = paginator.get_page(number)
    now = timezone.now()
    rows = []
    for n in page_obj.object_list:
        rows.append({"n": n, **due_of(n, now)})
    return page(request, "notify/inbox.html", {
        "rows": rows, "page_obj": page_obj, "show": show,
        "shows": [(k, v, k == show) for k, v in SHOWS.items()],
    })


@require_POST
@membership_required
def inbox_read(request: HttpRequest) -> HttpResponse:
    ids = [int(x) for x in request.POST.getlist("notice") if x.isascii() and x.isdigit()][:500]
    n = notice_read(notice_ids=ids, by=request.membership)
    if n:
        messages.success(request, _("已标为已读：%(n)d 条。") % {"n": n})
    return _back(request)


@require_POST
@membership_required
def inbox_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notice_dismiss(notice_id=pk, by=request.membership, reason=request.POST.get("reason", ""))
    except Refused as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("已销号。"))
    return _back(request)


def _channel_form_data(form) -> dict:
    d = form.cleaned_data
    return {"name": d["name"], "target": d["target"], "secret": d["secret"],
            "kinds": d["kinds"]}


@role_required(Role.SYSADMIN)
def channels_page(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            channel = channel_create(unit=d["unit"], format=d["format"], by=request.membership,
                                     **_channel_form_data(form))
            if not d["is_active"]:
                channel_update(channel=channel, is_active=False, by=request.membership)
        except Refused as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, _("已添加推送渠道：%(name)s。") % {"name": channel.name})
            return redirect("notify:channel", pk=channel.pk)
    channels = Channel.objects.select_related("unit").order_by("unit__path", "pk")
    return page(request, "notify/channels.html", {"form": form, "channels": channels},
                status=400 if form.errors else 200)


@role_required(Role.SYSADMIN)
def channel_page(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel.objects.select_related("unit"), pk=pk)
    initial = {"unit": channel.unit, "name": channel.name, "format": channel.format,
               "target": channel.target, "kinds": channel.kinds, "is_active": channel.is_active}
    form = ChannelForm(request.POST or None, initial=initial)
    form.fields["unit"].disabled = True
    form.fields["format"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            channel_update(channel=channel, by=request.membership,
                           is_active=form.cleaned_data["is_active"], **_channel_form_data(form))
        except Refused as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, _("已保存推送渠道：%(name)s。") % {"name": channel.name})
            return redirect("notify:channel", pk=channel.pk)
    recent = channel.deliveries.select_related("notice").order_by("-created_at")[:20]
    return page(request, "notify/channel.html", {
        "channel": channel, "form": form, "recent": recent,
        "has_secret": bool(channel.secret),
    }, status=400 if form.errors else 200)


@require_POST
@role_required(Role.SYSADMIN)
def channel_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    ok, detail = channel_test(channel=channel, by=request.membership)
    if ok:
        messages.success(request, _("测试消息已发出（%(d)s）。") % {"d": detail})
    else:
        messages.error(request, _("测试消息发送失败：%(d)s") % {"d": detail})
    return redirect("notify:channel", pk=channel.pk)


@role_required(Role.SECADMIN)
def dead_letters_page(request: HttpRequest) -> HttpResponse:
    dead = (Delivery.objects.filter(status=Delivery.Status.DEAD)
            .select_related("channel__unit", "notice").order_by("-created_at"))
    page_obj = CappedPaginator(dead, PAGE_SIZE).get_page(request.GET.get("page"))
    return page(request, "notify/dead_letters.html", {"page_obj": page_obj})


@require_POST
@role_required(Role.SECADMIN)
def dead_letter_requeue_view(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk)
    if dead_letter_requeue(delivery=delivery, by=request.membership):
        messages.success(request, _("已重新排队发送。"))
    else:
        messages.error(request, _("该消息不在失败列表中。"))
    return redirect("notify:dead_letters")
