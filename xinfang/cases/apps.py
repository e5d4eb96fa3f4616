from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "xinfang.cases"
    label = "cases"
    verbose_name = _("信访件")

    def ready(self) -> None:
        from .dbstats import optimize_after_migrate

        post_migrate.connect(optimize_after_migrate, sender=self, dispatch_uid="cases-optimize")
