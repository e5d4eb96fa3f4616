from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "xinfang.practices"
    label = "practices"
    verbose_name = "工作机制"
