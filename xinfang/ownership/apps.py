from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OwnershipConfig(AppConfig):
    name = "xinfang.ownership"
    label = "ownership"
    verbose_name = _("领导包案")
