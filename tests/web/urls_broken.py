"""The site's URLconf plus one view that fails, for the 500-page test."""

from django.urls import path

from xinfang.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def broken(request):
    raise RuntimeError("boom in the queue")


urlpatterns = [path("broken/", broken), path("api/broken/", broken), *urlpatterns]
