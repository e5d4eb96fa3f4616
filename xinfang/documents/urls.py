from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("cases/<int:pk>/documents/<str:code>.<str:fmt>", views.download, name="download"),
    path("admin/templates/", views.templates_page, name="templates"),
    path("cases/<int:pk>/archive.zip", views.archive, name="archive"),
]
