from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "xinfang.matching"
    verbose_name = "重复信访识别"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (keeps a person's fuzzy-name keys with the person)
