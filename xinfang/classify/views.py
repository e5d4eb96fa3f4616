"""The registration form's category suggestion (HTMX): a demand row's button posts the row and
the case's matter; the answer names the suggested categories and the words behind them, and —
when the clerk has not chosen yet — swaps in the row's category select with the first suggestion
chosen. The clerk confirms or changes it; the form stores what is submitted."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinfang.cases.workflow import REGISTER_ROLES
from xinfang.web.context import membership_required
from xinfang.web.forms.registration import DemandForm

from .selectors import categories_for
from .services import category_suggest

ROW = re.compile(r"^d-(\d+)$")


@never_cache
@require_POST
@membership_required
def suggest_row(request: HttpRequest) -> HttpResponse:
    if request.membership.role not in REGISTER_ROLES:
        return HttpResponse(status=403)
    prefix = request.POST.get("row", "")
    if not ROW.match(prefix):
        return HttpResponse(status=400)
    categories = categories_for(request.membership)
    text = request.POST.get(f"{prefix}-text", "")
    matter = request.POST.get("matter", "")
    chosen = request.POST.get(f"{prefix}-category", "")
    # The demand says what is asked; the matter says about what. Both are read.
    suggestions = category_suggest(text=f"{text}\n{matter}", categories=categories)
    select = ""
    if suggestions and chosen not in categories:
        form = DemandForm(prefix=prefix, categories=categories,
                          initial={"category": suggestions[0].category})
        select = form["category"].as_widget(attrs={"hx-swap-oob": "true"})
    return render(request, "classify/suggestion.html", {
        "prefix": prefix, "suggestions": suggestions, "select": select, "chosen": chosen,
        "empty": not (text.strip() or matter.strip()),
    })
