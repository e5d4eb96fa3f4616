"""The options of a picker (``forms.pick``) matching what was typed in its search box."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ..context import current_membership, jurisdiction_of, refuse
from ..forms.pick import BLANK, SEARCH_SUFFIX, SOURCES, options_html


@require_GET
def pick(request: HttpRequest, source: str) -> HttpResponse:
    """``?<field>__q=<text>&<field>=<chosen id>&_pick_blank=<words>``: the ``<option>``s to
    swap into the field's select. Only the roles whose forms hold such a picker may search its
    rows."""
    src = SOURCES.get(source)
    if src is None:
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("web:login"))
    m = current_membership(request)
    if m is None or m.role not in src.roles:
        return refuse(request, _("您当前的角色不能访问此页面。"))
    key = next((k for k in request.GET if k.endswith(SEARCH_SUFFIX)), "")
    text = request.GET.get(key, "").strip()[:50] if key else ""
    selected = request.GET.get(key[: -len(SEARCH_SUFFIX)], "") if key else ""
    home = jurisdiction_of(m) if src.scoped else None
    html, _more = options_html(src, src.rows(home), selected=selected, text=text,
                               blank=request.GET.get(BLANK, "")[:40])
    return HttpResponse(html)
