from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FiguresConfig(AppConfig):
    name = "xinfang.figures"
    label = "figures"
    verbose_name = _("督查统计汇总")
