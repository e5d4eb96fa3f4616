from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "xinfang.oversight"
    label = "oversight"
    verbose_name = _("督办、审核与代办")
