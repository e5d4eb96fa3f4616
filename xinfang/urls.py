from django.urls import include, path

urlpatterns = [
    path("api/", include("xinfang.api.urls")),
    path("", include("xinfang.documents.urls")),
    path("", include("xinfang.imports.urls")),
    path("", include("xinfang.web.urls")),
]
