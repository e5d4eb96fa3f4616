from django.urls import path

from . import views

app_name = "classify"
urlpatterns = [
    path("register/category/suggest/", views.suggest_row, name="suggest_row"),
]
