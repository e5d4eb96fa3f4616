from django.urls import path

from . import api

app_name = "practices_api"
urlpatterns = [
    path("return-visits/", api.ReturnVisits.as_view(), name="return-visits"),
    path("return-visits/owed/", api.ReturnVisitsOwed.as_view(), name="return-visits-owed"),
    path("meetings/", api.Meetings.as_view(), name="meetings"),
    path("meetings/status/", api.MeetingStatus.as_view(), name="meeting-status"),
    path("watch/", api.Watch.as_view(), name="watch"),
    path("watch/<int:pk>/reviews/", api.WatchReviews.as_view(), name="watch-reviews"),
    path("duty/", api.Duty.as_view(), name="duty"),
    path("duty/receptions/", api.Receptions.as_view(), name="receptions"),
    path("field-visits/", api.FieldVisits.as_view(), name="field-visits"),
    path("persuade/", api.Persuades.as_view(), name="persuades"),
    path("persuade/<int:pk>/returned/", api.PersuadeReturned.as_view(), name="persuade-returned"),
    path("persuade/<int:pk>/follow-up/", api.PersuadeFollowUp.as_view(), name="persuade-follow-up"),
    path("campaigns/", api.Campaigns.as_view(), name="campaigns"),
    path("campaigns/<int:pk>/tasks/", api.CampaignTasks.as_view(), name="campaign-tasks"),
    path("campaigns/<int:pk>/reports/", api.CampaignReports.as_view(), name="campaign-reports"),
    path("tasks/<int:pk>/progress/", api.TaskProgress.as_view(), name="task-progress"),
]
