from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulesConfig(AppConfig):
    name = "xinfang.rules"
    label = "rules"
    verbose_name = _("规则与日历")
