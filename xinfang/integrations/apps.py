from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "xinfang.integrations"
    verbose_name = "系统对接"
    default_auto_field = "django.db.models.BigAutoField"
