"""The token form of the administrators' page; the checks that matter are in ``services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.web.forms.common import PlainForm, date_field, text
from xinfang.web.forms.pick import Pick

from .models import Scope


class TokenForm(PlainForm):
    name = text(_("名称"), max_length=100, help_text=_("对接的系统，如“12345热线”“省信访信息系统”"))
    membership = Pick(
        source="memberships", label=_("以此任职办理"),
        help_text=_("令牌只能以这个任职（单位中的角色）办理，权限与该任职相同，再受权限范围限制。"),
    )
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple,
    )
    expires_on = date_field(_("有效期至"), required=False, help_text=_("含当日；不填则长期有效"))

    def __init__(self, *args, **kw):
        super().__init__(*args, prefix="t", **kw)
