"""The REST API under /api/ (namespace ``api``). Session authentication for the UI, bearer tokens
for other systems (xinfang/integrations); the acting membership is the token's, else the
``X-Membership`` header or the user's first active one. The OpenAPI 3 schema is at /api/schema/
and browsable at /api/docs/ (Swagger UI from drf-spectacular-sidecar, served from our own static
files: an office network may not reach a CDN, and a security review would not accept one). The
split view serves Swagger UI's start script as a file, so the strict Content-Security-Policy (no
inline script) holds on the docs page too."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from xinfang.documents import api as documents
from xinfang.integrations.auth import TokenScope
from xinfang.jobs import api as jobs
from xinfang.matching import api as matching
from xinfang.rules import api as profiles

from . import ledgers, people, views

app_name = "api"
urlpatterns = [
    path("cases/", views.CaseList.as_view(), name="case-list"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case-detail"),
    path("cases/<int:pk>/actions/", views.CaseActions.as_view(), name="case-actions"),
    *[path(f"cases/<int:pk>/transitions/{name}/", view.as_view(),
           name=f"case-transition-{name}") for name, view in views.transition_views()],
    path("cases/<int:pk>/transitions/<str:name>/", views.CaseTransition.as_view(),
         name="case-transition"),
    path("cases/<int:pk>/documents/", documents.DocumentList.as_view(), name="case-documents"),
    path("cases/<int:pk>/documents/<str:code>/issue/", documents.DocumentIssue.as_view(),
         name="case-document-issue"),
    path("cases/<int:pk>/documents/<str:code>/corrections/",
         documents.DocumentCorrection.as_view(), name="case-document-correct"),
    path("cases/<int:pk>/documents/<str:code>/<str:fmt>/", documents.DocumentFile.as_view(),
         name="case-document-file"),
    path("ledgers/l0.xlsx", views.LedgerL0.as_view(), name="ledger-l0"),
    path("ledgers/l1.xlsx", ledgers.LedgerL1.as_view(), name="ledger-l1"),
    path("ledgers/l2.xlsx", ledgers.LedgerL2.as_view(), name="ledger-l2"),
    path("ledgers/l3.xlsx", ledgers.LedgerL3.as_view(), name="ledger-l3"),
    path("matches/", matching.Matches.as_view(), name="matches"),
    path("people/<int:pk>/", people.PersonDetail.as_view(), name="person"),
    path("jobs/", jobs.JobList.as_view(), name="job-list"),
    path("jobs/<int:pk>/", jobs.JobDetail.as_view(), name="job-detail"),
    path("jobs/<int:pk>/file", jobs.JobFile.as_view(), name="job-file"),
    path("profiles/", profiles.VersionList.as_view(), name="profile-list"),
    path("profiles/diff/", profiles.VersionDiff.as_view(), name="profile-diff"),
    path("profiles/<str:code>/<int:number>/", profiles.VersionDetail.as_view(),
         name="profile-detail"),
    path("profiles/<str:code>/<int:number>/migration/", profiles.VersionMigration.as_view(),
         name="profile-migration"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated, TokenScope]),
         name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", permission_classes=[IsAuthenticated, TokenScope],
        template_name="api/swagger_ui.html"), name="docs"),
]
