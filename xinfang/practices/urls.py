from django.urls import path

from . import views

app_name = "practices"
urlpatterns = [
    path("", views.index, name="index"),
    path("return-visits/", views.return_visits, name="return_visits"),
    path("meetings/", views.meetings, name="meetings"),
    path("watch/", views.watch, name="watch"),
    path("watch/<int:pk>/", views.watch_entry, name="watch_entry"),
    path("duty/", views.duty, name="duty"),
    path("persuade/", views.persuades, name="persuades"),
    path("persuade/<int:pk>/", views.persuade, name="persuade"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
]
