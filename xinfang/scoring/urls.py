from django.urls import path

from . import views

app_name = "scoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("cases/", views.cases, name="cases"),
    path("bulletin.<str:fmt>", views.bulletin, name="bulletin"),
]
