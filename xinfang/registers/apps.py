from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "xinfang.registers"
    label = "registers"
    verbose_name = _("排查、积案与队伍")
