"""Pages: the inbox (every case-reading membership), the channels (system administrator) and the
dead letters (security administrator). Views parse and call; the rules are in the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.cases.choices import label_of
from xinfang.cases.errors import Refused
from xinfang.cases.paging import CappedPaginator, asked_page
from xinfang.org.choices import Role
from xinfang.security.once import Repeated, form_once, repeated
from xinfang.web.context import membership_required, page, role_required
from xinfang.web.present import KEY, esc, urls_of

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
from .models import Channel, Delivery, Kind
from .selectors import inbox_newest

PAGE_SIZE = 50
SHOWS = {"open": gettext_lazy("待处理"), "unread": gettext_lazy("未读"),
         "all": gettext_lazy("全部（含已销号）")}


def _back(request: HttpRequest) -> HttpResponse:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("notify:inbox")


def inbox_rows_html(rows: list[dict], *, csrf: str, back: str) -> SafeString:
    """The ``<tr>`` of each notice of an inbox page (``inbox_page``'s rows: the notice ``n``
    and ``due_of``'s clock, deadline and time left), with its read and dismiss forms. ``csrf``:
    the request's hidden token input; ``back``: the page to return to. Fifty rows through the
    template, a ``url`` tag, two tokens, filters and translations a row, were 23 of the page's
    41 ms of CPU at 1M cases (lead46)."""
    read_url, case_url = reverse("notify:inbox_read"), urls_of("web:case", KEY)
    dismiss_url = urls_of("notify:inbox_dismiss", KEY)
    back_input = f'<input type="hidden" name="next" value="{esc(back)}">'
    words = {k: esc(v) for k, v in (
        ("go", _("去办理")), ("due", _("截止")), ("dismissed", _("已销号")), ("read", _("已读")),
        ("unread", _("未读")), ("mark", _("标为已读")), ("why", _("销号理由")),
        ("dismiss", _("销号")))}
    language, zone = get_language(), timezone.get_current_timezone()
    out = []
    for r in rows:
        n = r["n"]
        if n.case_id:
            case = f'<a href="{esc(case_url(n.case_id))}">{esc(n.case.number)}</a>'
        elif n.link:
            case = f'<a href="{esc(n.link)}">{words["go"]}</a>'
        else:
            case = "—"
        due = ""
        if r["due_at"]:
            left = f" · {esc(r['left'])}" if r["left"] else ""
            due = (f'{esc(r["clock"])}<br><span class="muted">{words["due"]} '
                   f'{r["due_at"].astimezone(zone):%Y-%m-%d %H:%M}{left}</span>')
        if n.dismissed_at:
            state = f'<span class="tag">{words["dismissed"]}</span>'
            if n.dismiss_reason:
                state += f'<br><span class="muted">{esc(n.dismiss_reason)}</span>'
        elif n.read_at:
            state = f'<span class="tag">{words["read"]}</span>'
        else:
            state = f'<span class="tag warn">{words["unread"]}</span>'
        forms = ""
        if not n.read_at:
            forms += (f'<form method="post" action="{esc(read_url)}">{csrf}'
                      f'<input type="hidden" name="notice" value="{n.pk}">{back_input}'
                      f'<button type="submit" class="small quiet">{words["mark"]}</button>'
                      "</form>")
        if not n.dismissed_at:
            reason = (f'<label>{words["why"]} <input name="reason" maxlength="300" required>'
                      "</label>" if n.needs_reason else "")
            forms += (f'<form method="post" action="{esc(dismiss_url(n.pk))}" class="dismiss">'
                      f'{csrf}{back_input}{reason}'
                      f'<button type="submit" class="small">{words["dismiss"]}</button></form>')
        out.append(
            f'<tr class="notice{"" if n.read_at else " unread"}" data-notice="{n.pk}">'
            f"<td>{n.created_at.astimezone(zone):%Y-%m-%d %H:%M}</td>"
            f"<td>{esc(label_of(Kind, n.kind, language))}</td><td>{case}</td>"
            f"<td>{esc(n.text)}</td><td>{esc(n.todo)}</td><td>{due}</td><td>{state}</td>"
            f"<td>{forms}</td></tr>")
    return mark_safe("\n".join(out))


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
        "rows_html": inbox_rows_html(rows, csrf=csrf_input(request),
                                     back=request.get_full_path()),
        "unread_inputs": mark_safe("".join(
            f'<input type="hidden" name="notice" value="{r["n"].pk}">'
            for r in rows if not r["n"].read_at)),
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
            with form_once(request) as once:
                channel = channel_create(unit=d["unit"], format=d["format"],
                                         by=request.membership, **_channel_form_data(form))
                if not d["is_active"]:
                    channel_update(channel=channel, is_active=False, by=request.membership)
                once.answer(reverse("notify:channel", args=[channel.pk]))
        except Repeated as r:  # the same form sent again: one channel
            return repeated(request, r)
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
