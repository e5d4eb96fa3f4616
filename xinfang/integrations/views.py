"""The token page (系统管理员、安全管理员): list, create (the token shown once, in the response
only; the form sent twice makes one), revoke. Writes go through ``services``, each with its
audit entry."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.cases.errors import Refused
from xinfang.security.auth import client_ip
from xinfang.security.once import Repeated, form_once, repeated
from xinfang.web.context import page, role_required

from .forms import TokenForm
from .models import ApiToken
from .services import TOKEN_ADMINS, token_create, token_revoke


@require_http_methods(["GET", "POST"])
@role_required(*TOKEN_ADMINS)
def tokens_page(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created, raw = None, ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        expires = (timezone.make_aware(datetime.combine(d["expires_on"], time.max))
                   if d["expires_on"] else None)
        try:
            # Sent twice (a double click, a reload of the answer), the form makes one token: a
            # second would be a live credential nobody was shown.
            with form_once(request) as once:
                created, raw = token_create(by=request.membership, membership=d["membership"],
                                            name=d["name"], scopes=d["scopes"],
                                            expires_at=expires, ip=client_ip(request))
                once.answer(reverse("integrations:tokens"))
        except Repeated as r:
            return repeated(request, r)
        except Refused as e:
            form.add_error(e.field if e.field in form.fields else
                           ("expires_on" if e.field == "expires_at" else None), e.message)
        else:
            form = TokenForm()
    tokens = (ApiToken.objects.select_related("membership__user", "membership__unit")
              .order_by("-created_at", "-pk"))
    response = page(request, "integrations/tokens.html",
                    {"form": form, "tokens": list(tokens[:500]), "created": created, "raw": raw},
                    status=400 if form.errors else 200)
    if raw:
        response["Cache-Control"] = "no-store"  # the token is in this page only
    return response


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
