from django.urls import include, path

from xinfang.jobs.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # the monitor's: no sign-in, no confidential data
    path("api/reports/", include("xinfang.reports.api_urls")),
    path("api/oversight/", include("xinfang.oversight.api_urls")),
    path("api/practices/", include("xinfang.practices.api_urls")),
    path("api/categories/", include("xinfang.classify.api_urls")),
    path("api/scores/", include("xinfang.scoring.api_urls")),
    path("api/", include("xinfang.api.urls")),
    path("", include("xinfang.documents.urls")),
    path("", include("xinfang.notify.urls")),
    path("reports/", include("xinfang.reports.urls")),
    path("practices/", include("xinfang.practices.urls")),
    path("", include("xinfang.classify.urls")),
    path("scores/", include("xinfang.scoring.urls")),
    path("", include("xinfang.jobs.urls")),
    path("", include("xinfang.imports.urls")),
    path("", include("xinfang.integrations.urls")),
    path("", include("xinfang.oversight.urls")),
    path("", include("xinfang.web.urls")),
]

# Error pages in Chinese (JSON under /api/) when DEBUG is off; xinfang.web.errors covers DEBUG on.
handler400 = "xinfang.web.errors.bad_request"
handler403 = "xinfang.web.errors.permission_denied"
handler404 = "xinfang.web.errors.page_not_found"
handler500 = "xinfang.web.errors.server_error"
