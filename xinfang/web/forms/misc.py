"""The small forms: sign-in, the public progress query and rating, reveal, upload."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c

from .common import PlainForm, choice, text


class LoginForm(PlainForm):
    username = text(_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)
    totp_code = forms.CharField(
        label=_("动态验证码"),
        required=False,
        max_length=10,
        help_text=_("已绑定身份验证器的用户填写，其他用户留空。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"


class ProgressQueryForm(PlainForm):
    number = text(
        _("信访件编号"), max_length=60, help_text=_("见受理告知书，如“建安信〔2026〕0001号”。")
    )
    code = text(_("查询码"), max_length=12, help_text=_("受理告知书上的8位查询码。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["autocomplete"] = "off"


class PublicRatingForm(PlainForm):
    rating = choice(_("您对处理结果是否满意"), c.Rating.choices, radio=True)
    reason = text(_("意见和建议"), required=False, rows=3, max_length=500)


class RevealForm(PlainForm):
    petitioner = forms.IntegerField(widget=forms.HiddenInput)
    reason = text(_("查看原因"), max_length=200, help_text=_("查看完整身份信息将记入审计日志。"))


class UploadForm(PlainForm):
    # A plain file input (never an initial file to clear), written by the form renderer in
    # Python, not through ClearableFileInput's three templates on every case page.
    file = forms.FileField(label=_("选择文件"), widget=forms.FileInput)
    description = text(_("说明"), required=False, max_length=200)
