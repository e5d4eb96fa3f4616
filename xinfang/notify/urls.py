from django.urls import path

from . import api, views

app_name = "notify"
urlpatterns = [
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("inbox/<int:pk>/dismiss/", views.inbox_dismiss, name="inbox_dismiss"),
    path("admin/channels/", views.channels_page, name="channels"),
    path("admin/channels/<int:pk>/", views.channel_page, name="channel"),
    path("admin/channels/<int:pk>/test/", views.channel_test_view, name="channel_test"),
    path("security/dead-letters/", views.dead_letters_page, name="dead_letters"),
    path("security/dead-letters/<int:pk>/requeue/", views.dead_letter_requeue_view,
         name="dead_letter_requeue"),
    path("api/inbox/", api.InboxList.as_view(), name="api-inbox"),
    path("api/inbox/read/", api.InboxRead.as_view(), name="api-inbox-read"),
    path("api/inbox/<int:pk>/dismiss/", api.InboxDismiss.as_view(), name="api-inbox-dismiss"),
]
