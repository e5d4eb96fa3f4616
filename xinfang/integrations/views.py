"""The token pages. The administrators' (系统管理员、安全管理员): list, authorise (no text: the
holder collects it; the form sent twice authorises once), revoke. The holder's own (any business
role, from its navigation): the tokens authorised for the signed-in account's roles, each
collected once — the text shown in that response only. Writes go through ``services``, each with
its audit entry."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.cases.errors import Refused
from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.security.auth import client_ip
from xinfang.security.once import Repeated, form_once, repeated
from xinfang.web.context import page, role_required

from .forms import TokenForm
from .models import ApiToken
from .services import TOKEN_ADMINS, collect_days, token_authorise, token_collect, token_revoke

# Who reaches "my tokens" from the navigation: every business role (a token acts as one).
HOLDER_ROLES = tuple(r for r in Role.values if r not in ADMIN_ROLES)


@require_http_methods(["GET", "POST"])
@role_required(*TOKEN_ADMINS)
def tokens_page(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        expires = (timezone.make_aware(datetime.combine(d["expires_on"], time.max))
                   if d["expires_on"] else None)
        try:
            # Sent twice (a double click, a reload of the answer), the form authorises once.
            with form_once(request) as once:
                token = token_authorise(by=request.membership, membership=d["membership"],
                                        name=d["name"], scopes=d["scopes"],
                                        expires_at=expires, ip=client_ip(request))
                once.answer(reverse("integrations:tokens"))
        except Repeated as r:
            return repeated(request, r)
        except Refused as e:
            form.add_error(e.field if e.field in form.fields else
                           ("expires_on" if e.field == "expires_at" else None), e.message)
        else:
            holder = token.membership.user
            messages.success(request, _(
                "已授权令牌“%(name)s”，待%(holder)s本人登录后在“我的令牌”页面领取（%(until)s前）。"
                "令牌内容只显示给本人。") % {
                    "name": token.name, "holder": holder.full_name or holder.username,
                    "until": f"{timezone.localtime(token.collect_until):%Y-%m-%d %H:%M}"})
            return redirect("integrations:tokens")
    tokens = (ApiToken.objects.select_related("membership__user", "membership__unit")
              .order_by("-created_at", "-pk"))
    return page(request, "integrations/tokens.html",
                {"form": form, "tokens": list(tokens[:500]), "collect_days": collect_days()},
                status=400 if form.errors else 200)


@require_POST
@role_required(*TOKEN_ADMINS)
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    try:
        token_revoke(by=request.membership, token=token, ip=client_ip(request))
    except Refused as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("已撤销令牌：%(t)s。") % {"t": token})
    return redirect("integrations:tokens")


def _mine(request: HttpRequest):
    return (ApiToken.objects.filter(membership__user=request.user)
            .select_related("membership__unit").order_by("-created_at", "-pk"))


@never_cache
@require_http_methods(["GET"])
@role_required(*HOLDER_ROLES)
def my_tokens(request: HttpRequest) -> HttpResponse:
    return page(request, "integrations/my_tokens.html", {"tokens": list(_mine(request)[:200])})


@never_cache
@require_POST
@role_required(*HOLDER_ROLES)
def token_collect_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Collect one of the account's own tokens (another's id is not found). The text is in this
    answer only (``no-store``); sent again, it is refused, and no second text is made."""
    token = _mine(request).filter(pk=pk).first()
    if token is None:
        raise Http404
    try:
        token, raw = token_collect(by=request.user, token=token, ip=client_ip(request))
    except Refused as e:
        return page(request, "integrations/my_tokens.html",
                    {"tokens": list(_mine(request)[:200]), "error": e.message}, status=409)
    response = page(request, "integrations/my_tokens.html",
                    {"tokens": list(_mine(request)[:200]), "collected": token, "raw": raw})
    response["Cache-Control"] = "no-store"  # the token is in this page only
    return response
