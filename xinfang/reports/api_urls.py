from django.urls import path

from . import api

app_name = "reports_api"
urlpatterns = [
    path("l4.xlsx", api.LedgerL4.as_view(), name="l4"),
    path("<str:kind>", api.Report.as_view(), name="report"),
]
