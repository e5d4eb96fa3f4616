from django.urls import path

from . import api

app_name = "scoring_api"
urlpatterns = [
    path("", api.ScoresView.as_view(), name="scores"),
    path("cases/", api.ScoreCases.as_view(), name="cases"),
    path("bulletin.<str:fmt>", api.ScoresBulletin.as_view(), name="bulletin"),
]
