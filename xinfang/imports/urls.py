from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("admin/units/import/", views.units_upload, name="units_upload"),
    path("admin/units/import/<int:pk>/", views.units_preview, name="units_preview"),
    path("ledger/import/", views.ledger_upload, name="ledger_upload"),
    path("ledger/import/<int:pk>/", views.ledger_preview, name="ledger_preview"),
    path("ledger/import/<int:pk>/confirm/", views.ledger_confirm, name="ledger_confirm"),
]
