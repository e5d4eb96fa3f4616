from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("l4.xlsx", views.l4, name="l4"),
    path("<str:kind>/", views.download, name="download"),
]
