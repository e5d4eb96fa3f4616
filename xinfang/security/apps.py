from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "xinfang.security"
    label = "security"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .filemodes import secure_sqlite_files

        connection_created.connect(secure_sqlite_files, dispatch_uid="xinfang.security.modes")
