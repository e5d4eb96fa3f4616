"""Forms of the administrators' pages (三员分立) and of the rules pages. They parse; the checks
that matter are in ``web.admin_services`` and ``rules.services``."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.utils.translation import gettext_lazy as _

from xinfang.audit.services import ACTIONS
from xinfang.org.choices import Level, Role, UnitKind

from .common import PlainForm, choice, date_field, flag, text
from .pick import Pick

NO_PROFILE = ("", _("—无（不是受理机关）—"))
MAX_NOTICE_BYTES = 64 * 1024
MAX_PROFILE_BYTES = 256 * 1024

ACTION_LABELS = {
    "login": _("登录"),
    "login_failed": _("登录失败"),
    "lockout": _("账户锁定"),
    "logout": _("退出"),
    "reveal": _("查看完整身份信息"),
    "read": _("查阅信访件"),
    "export": _("导出"),
    "download": _("下载附件"),
    "permission_change": _("权限变更"),
    "profile_change": _("配置变更"),
    "calendar_load": _("载入节假日安排"),
    "import": _("导入台账"),
    "key_rotation": _("密钥轮换"),
    "backup": _("备份"),
    "restore": _("恢复"),
    "checkpoint": _("审计清理检查点"),
    "checkpoint_file_started": _("启用检查点文件"),
    "register_change": _("台账登记"),
    "event_time": _("补报事件时间"),
    "practice_change": _("工作机制记录"),
}


def profile_choices(codes: list[str]) -> list[tuple[str, str]]:
    """Each profile by its Chinese name (the newest installed version's, else its shipped
    file's)."""
    from xinfang.rules.versions import profile_names

    names = profile_names(codes)
    return [(code, names.get(code, code)) for code in codes]


def _password_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class PasswordPair(PlainForm):
    password1 = _password_field(_("新密码"))
    password2 = _password_field(_("再次输入新密码"))

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.fields["password1"].help_text = "".join(password_validators_help_texts())

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class UnitForm(PlainForm):
    name = text(_("名称"), max_length=100)
    short_name = text(
        _("简称"), required=False, max_length=20, help_text=_("受理机关的案件编号前缀，如“建安”。")
    )
    level = choice(_("层级"), Level.choices)
    kind = choice(_("类型"), UnitKind.choices)
    parent = Pick(source="units", label=_("上级单位"), required=False,
                  empty_label=_("—无（顶层单位）—"))
    profile_code = choice(_("规则配置"), [], required=False, blank=None)
    phone = text(_("办公电话"), required=False, max_length=40)

    def __init__(self, *args, profile_codes: list[str], **kw):
        super().__init__(*args, prefix="u", **kw)
        self.fields["profile_code"].choices = [NO_PROFILE, *profile_choices(profile_codes)]
        self.fields["profile_code"].help_text = _(
            "只为设有信访受理机关的县（区）、乡镇（街道）等单位选择。"
        )


class UnitEditForm(PlainForm):
    name = text(_("名称"), max_length=100)
    short_name = text(_("简称"), required=False, max_length=20)
    profile_code = choice(_("规则配置"), [], required=False, blank=None)
    phone = text(_("办公电话"), required=False, max_length=40)
    effective = date_field(_("更名生效日期"), required=False,
                           help_text=_("仅在更改名称时填写；不填为今天。此前各期的统计表仍用原名。"))

    def __init__(self, *args, profile_codes: list[str], **kw):
        super().__init__(*args, prefix="e", **kw)
        self.fields["profile_code"].choices = [NO_PROFILE, *profile_choices(profile_codes)]
        self.fields["profile_code"].help_text = _(
            "更换规则配置记入审计日志；已受理的信访件仍按受理时的配置版本办理。"
        )


class UserCreateForm(PasswordPair):
    username = text(_("用户名"), max_length=150)
    full_name = text(_("姓名"), max_length=50)
    phone = text(_("手机号码"), required=False, max_length=20)
    position = text(_("职务"), required=False, max_length=50)

    field_order = ["username", "full_name", "phone", "position", "password1", "password2"]

    def __init__(self, *args, **kw):
        super().__init__(*args, prefix="n", **kw)
        self.fields["password1"].label = _("初始密码")
        self.fields["password2"].label = _("再次输入初始密码")
        self.fields["username"].widget.attrs["autocomplete"] = "off"


class PasswordResetRequestForm(PlainForm):
    reason = text(_("重置理由"), max_length=200, help_text=_("须由另一名管理员批准后才会重置。"))


class PasswordChangeForm(PasswordPair):
    old_password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    field_order = ["old_password", "password1", "password2"]


class TotpConfirmForm(PlainForm):
    code = forms.CharField(
        label=_("动态验证码"),
        max_length=10,
        help_text=_("身份验证器上显示的6位数字。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class GrantForm(PlainForm):
    unit = Pick(source="units", label=_("单位"))
    role = choice(_("角色"), Role.choices)

    def __init__(self, *args, **kw):
        super().__init__(*args, prefix="g", **kw)


class AuditFilterForm(PlainForm):
    action = choice(
        _("操作"), [(a, ACTION_LABELS.get(a, a)) for a in ACTIONS], required=False, blank=_("全部")
    )
    actor = text(_("操作人"), required=False, max_length=150)
    object_type = text(_("对象类型"), required=False, max_length=40)
    at_from = date_field(_("日期自"), required=False)
    at_to = date_field(_("至"), required=False)

    def __init__(self, *args, **kw):
        super().__init__(*args, auto_id="a_%s", **kw)


class CalendarUploadForm(PlainForm):
    file = forms.FileField(
        label=_("通知文件"),
        help_text=_(
            "UTF-8 文本文件，每行一项：year 2027 / holiday 2027-01-01 元旦 / "
            "workday 2027-02-20 春节。"
        ),
    )
    replace = flag(_("替换已载入或内置的同一年度"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_NOTICE_BYTES:
            raise forms.ValidationError(_("文件过大（上限 64 KB），通知文件应为纯文本。"))
        raw = f.read()
        try:
            text_value = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("文件不是 UTF-8 编码的文本，请另存为 UTF-8 后重试。")
            ) from None
        if "\x00" in text_value:
            raise forms.ValidationError(_("文件不是纯文本。"))
        self.notice_text = text_value
        return f


class ProfileUploadForm(PlainForm):
    file = forms.FileField(
        label=_("规则配置文件"),
        help_text=_("YAML 文本文件（UTF-8），格式见随系统提供的 profiles/README.md。"),
    )
    dry_run = flag(_("只检查，不安装"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_PROFILE_BYTES:
            raise forms.ValidationError(_("文件过大（上限 256 KB），规则配置文件应为纯文本。"))
        try:
            text_value = f.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("文件不是 UTF-8 编码的文本，请另存为 UTF-8 后重试。")
            ) from None
        if "\x00" in text_value:
            raise forms.ValidationError(_("文件不是纯文本。"))
        self.profile_text = text_value
        return f
