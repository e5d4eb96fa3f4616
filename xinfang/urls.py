from django.urls import include, path

urlpatterns = [
    path("api/reports/", include("xinfang.reports.api_urls")),
    path("api/", include("xinfang.api.urls")),
    path("", include("xinfang.documents.urls")),
    path("reports/", include("xinfang.reports.urls")),
    path("", include("xinfang.web.urls")),
]
