from django.urls import path

from . import api

app_name = "classify_api"
urlpatterns = [
    path("suggest/", api.CategorySuggest.as_view(), name="suggest"),
]
