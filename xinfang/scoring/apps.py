from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "xinfang.scoring"
    label = "scoring"
    verbose_name = "考核评分"
