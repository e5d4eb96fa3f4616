from django.apps import AppConfig


class ClassifyConfig(AppConfig):
    name = "xinfang.classify"
    label = "classify"
    verbose_name = "问题类别建议"
