from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "xinfang.security"
    label = "security"
