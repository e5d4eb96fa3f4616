from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulesConfig(AppConfig):
    name = "xinfang.rules"
    label = "rules"
    verbose_name = _("规则与日历")

    def ready(self) -> None:
        # Every module that acts on a profile key declares it (rules/consumers.py); import them
        # so the registry is complete whenever Django is set up.
        from .consumers import load_consumers

        load_consumers()
