"""A person's page (every case of theirs the user may see, by matter), the ownership items on
the case page, and the office's village → leader links (联点村领导)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.cases.errors import Refused
from xinfang.org.choices import UnitKind
from xinfang.org.models import Unit, User
from xinfang.ownership.models import OwnershipItem, VillageLeader
from xinfang.ownership.people import PersonNotFound, person_for
from xinfang.ownership.services import (
    leader_choices,
    may_link_villages,
    ownership_item_update,
    village_leader_end,
    village_leader_set,
)

from ..context import jurisdiction_of, membership_required, page, refuse
from ..forms.common import ModelChoice


@never_cache
@membership_required
def person(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = person_for(request.membership, pk)
    except PersonNotFound:
        raise Http404(_("没有这位信访人，或您无权查看。")) from None
    return page(request, "web/person.html", {"person": found, "now": timezone.now()})


class ItemForm(forms.Form):
    status = forms.ChoiceField(label=_l("落实情况"), choices=OwnershipItem.Status.choices)
    note = forms.CharField(label=_l("说明"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


@never_cache
@require_POST
@membership_required
def ownership_item(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    target = OwnershipItem.objects.filter(pk=item, case_id=pk).first()
    if target is None:
        raise Http404(_("没有这个包案事项，或您无权查看。"))
    form = ItemForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"{form.fields[field].label}：{errors[0]}")
        return redirect(reverse("web:case", args=[pk]) + "#ownership")
    try:
        ownership_item_update(item=target, status=form.cleaned_data["status"],
                              note=form.cleaned_data["note"], by=request.membership,
                              at=timezone.now())
    except Refused as e:
        if "无权查看" in e.message:
            raise Http404(e.message) from None
        messages.error(request, e.message)
    else:
        messages.success(request, _("已更新包案事项“%(item)s”。") % {"item": target.label})
    return redirect(reverse("web:case", args=[pk]) + "#ownership")


class VillageLeaderForm(forms.Form):
    village = ModelChoice(label=_l("村（社区）"), queryset=Unit.objects.none(),
                          empty_label=_l("请选择村（社区）"))
    leader = ModelChoice(label=_l("联点领导"), queryset=User.objects.none(),
                         required=False, empty_label=_l("（撤销联点）"))

    def __init__(self, *args, home: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = Unit.objects.filter(
            path__under=home.path, kind=UnitKind.VILLAGE, is_active=True).order_by("path")
        self.fields["village"].label_from_instance = lambda u: u.name
        self.fields["leader"].queryset = leader_choices(home)
        self.fields["leader"].label_from_instance = lambda u: u.full_name or u.username


@never_cache
@require_http_methods(["GET", "POST"])
@membership_required
def village_leaders(request: HttpRequest) -> HttpResponse:
    m = request.membership
    home = jurisdiction_of(m)
    if not may_link_villages(m, home):
        return refuse(request, _("只有本级信访办可以登记联点村领导。"))
    form = VillageLeaderForm(request.POST or None, home=home)
    if request.method == "POST" and form.is_valid():
        village, leader = form.cleaned_data["village"], form.cleaned_data["leader"]
        try:
            if leader is None:
                village_leader_end(village=village, by=m, at=timezone.now())
            else:
                village_leader_set(village=village, leader=leader, by=m, at=timezone.now())
        except Refused as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, _("已登记%(v)s的联点领导。") % {"v": village.name})
            return redirect("web:village_leaders")
    links = (VillageLeader.objects.filter(village__path__under=home.path)
             .select_related("village", "leader", "recorded_by")
             .order_by("village__path", "-recorded_at"))
    return page(request, "web/village_leaders.html", {"form": form, "links": list(links)})
