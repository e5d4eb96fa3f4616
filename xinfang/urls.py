from django.urls import include, path

urlpatterns = [
    path("api/", include("xinfang.api.urls")),
    path("", include("xinfang.web.urls")),
]
