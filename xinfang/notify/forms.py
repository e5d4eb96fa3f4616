from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.web.forms.pick import Pick

from .models import Channel, Kind

KIND_CHOICES = [(k.value, k.label) for k in Kind if k != Kind.TEST]


class ChannelForm(forms.Form):
    unit = Pick(source="units", label=_("单位"))
    name = forms.CharField(label=_("名称"), max_length=60)
    format = forms.ChoiceField(label=_("类型"), choices=Channel.Format.choices)
    target = forms.CharField(
        label=_("地址"), max_length=2000,
        help_text=_("机器人或 Webhook 的网址；电子邮件填收件邮箱，多个用逗号分隔。"),
    )
    secret = forms.CharField(
        label=_("签名密钥"), required=False, max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "钉钉“加签”密钥或 Webhook 签名密钥，加密保存，不再显示。"
            "修改时留空表示不变，填“-”表示清除。"
        ),
    )
    kinds = forms.MultipleChoiceField(
        label=_("推送类别"), required=False, choices=KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple, help_text=_("不选表示全部推送。"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
