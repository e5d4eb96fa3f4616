"""工作移交: the petition office moves all the open work of one unit to another (乡镇撤并), each
case through the ``reassign`` transition (``cases.services.handover``). Sent again, it moves only
what has not moved; what cannot move is listed with its case number and why."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services.base import is_office_at
from xinfang.cases.services.handover import unit_hand_over, unit_open_cases
from xinfang.org.choices import Level, Role
from xinfang.org.models import Unit

from ..context import jurisdiction_of, membership_required, page, refuse
from ..forms.common import ModelChoice, PlainForm, text

HANDS_OVER = (Role.CLERK, Role.APPROVER)


class HandOverForm(PlainForm):
    old = ModelChoice(label=gettext_lazy("移交单位"), queryset=Unit.objects.none(),
                      help_text=gettext_lazy("其在办信访件（主办、协办）全部改派。"))
    new = ModelChoice(label=gettext_lazy("接收单位"), queryset=Unit.objects.none())
    reason = text(gettext_lazy("移交理由"), rows=2,
                  help_text=gettext_lazy("如：乡镇撤并，某某镇并入某某镇。"))
    receiver_name = text(gettext_lazy("接收人"), max_length=50)

    def __init__(self, *args, home: Unit, **kw):
        super().__init__(*args, **kw)
        units = (Unit.objects.filter(path__under=home.path).exclude(pk=home.pk)
                 .exclude(level=Level.VILLAGE).order_by("path"))
        # a switched-off unit may still hold work to hand over; only an active one receives it
        self.fields["old"].queryset = units
        self.fields["new"].queryset = units.filter(is_active=True)


@never_cache
@require_http_methods(["GET", "POST"])
@membership_required
def handover(request: HttpRequest) -> HttpResponse:
    m = request.membership
    home = jurisdiction_of(m)
    if m.role not in HANDS_OVER or home is None or not is_office_at(m.unit, home):
        return refuse(request, _("工作移交由受理机关的经办人或分管领导办理。"))
    result = None
    if request.method == "POST":
        form = HandOverForm(request.POST, home=home)
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = unit_hand_over(by=m, old=d["old"], new=d["new"], reason=d["reason"],
                                        receiver_name=d["receiver_name"])
            except Refused as e:
                form.add_error(e.field if e.field in form.fields else None, e.message)
    else:
        form = HandOverForm(home=home, initial={"old": request.GET.get("old")})
    old = form.cleaned_data.get("old") if form.is_bound and form.is_valid() else None
    if old is None and not form.is_bound and request.GET.get("old", "").isdigit():
        old = form.fields["old"].queryset.filter(pk=request.GET["old"]).first()
    waiting = ([(case.number, c.State(case.state).label, case.pk)
                for case in unit_open_cases(by=m, unit=old).only("number", "state")]
               if old is not None else [])
    return page(request, "web/handover.html", {
        "form": form, "result": result, "old": old, "waiting": waiting, "here": "handover",
        "registers": True,
    }, status=422 if form.is_bound and form.errors else 200)
