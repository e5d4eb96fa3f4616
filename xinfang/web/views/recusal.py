"""回避 (seed 000 §九(二)): declaring and withdrawing recusals from the pages. Who may do which is
the service's rule (``xinfang.security.services``); the page offers only what it allows."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.cases.errors import Refused
from xinfang.org.models import Membership
from xinfang.security.masking import mask_name
from xinfang.security.models import Recusal
from xinfang.security.services import (
    led_jurisdiction,
    recusal_declare,
    recusal_withdraw,
    withdraw_refusal,
)

from ..context import membership_required, page
from ..forms.recusal import RecusalForm, WithdrawForm


def visible_recusals(m: Membership):
    """One's own recusals; a leader also those of the staff of the jurisdiction they lead."""
    mine = Q(user=m.user)
    home = led_jurisdiction(m)
    if home is not None:
        mine |= Q(user__memberships__unit__path__under=home.path,
                  user__memberships__is_active=True)
    return (
        Recusal.objects.filter(mine)
        .select_related("user", "case", "petitioner", "declared_by", "withdrawn_by")
        .distinct()
        .order_by("-is_active", "-declared_at", "-pk")
    )


def _rows(m: Membership, withdraw_forms: dict[int, WithdrawForm]):
    rows = []
    for r in visible_recusals(m):
        if r.case_id:
            target = _("信访件 %(n)s") % {"n": r.case.number}
        elif r.petitioner_id:
            target = _("信访人 %(n)s") % {"n": mask_name(r.petitioner.name)}
        else:
            target = _("事项含“%(w)s”") % {"w": r.matter_words}
        may_withdraw = withdraw_refusal(by=m, recusal=r) is None
        rows.append({
            "r": r,
            "target": target,
            "may_withdraw": may_withdraw,
            "form": withdraw_forms.get(r.pk) or WithdrawForm(auto_id=f"id_w{r.pk}_%s"),
        })
    return rows


def _render(request, form, withdraw_forms=None, status=200):
    m = request.membership
    return page(request, "web/recusals.html", {
        "form": form,
        "rows": _rows(m, withdraw_forms or {}),
        "leads": led_jurisdiction(m),
    }, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@membership_required
def recusals(request: HttpRequest) -> HttpResponse:
    m = request.membership
    if request.method == "GET":
        return _render(request, RecusalForm(membership=m))
    form = RecusalForm(request.POST, membership=m)
    if form.is_valid():
        d = form.cleaned_data
        try:
            recusal_declare(user=d["user"], reason=d["reason"], case=d["case"],
                            petitioner=d["petitioner"], matter_words=d["matter_words"], by=m)
        except Refused as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, _("已登记回避申报：%(u)s。") % {"u": d["user"]})
            return redirect("web:recusals")
    return _render(request, form, status=400)


@never_cache
@require_POST
@membership_required
def recusal_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    recusal = visible_recusals(m).filter(pk=pk).first()
    if recusal is None:
        raise Http404(_("没有这项回避申报，或您无权查看。"))
    form = WithdrawForm(request.POST, auto_id=f"id_w{pk}_%s")
    if form.is_valid():
        try:
            recusal_withdraw(recusal=recusal, by=m, reason=form.cleaned_data["reason"])
        except Refused as e:
            form.add_error(None, e.message)
        else:
            messages.success(request, _("已撤回回避申报。"))
            return redirect("web:recusals")
    status = 403 if withdraw_refusal(by=m, recusal=recusal) else 400
    return _render(request, RecusalForm(membership=m), {pk: form}, status=status)
