"""The REST API under /api/ (namespace ``api``). Session authentication; the acting membership is
the ``X-Membership`` header or the user's first active one. Only the raw OpenAPI 3 schema is
served: drf-spectacular's Swagger UI and ReDoc load their assets from a CDN, which an office
network may not reach and a security review would not accept."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated

from xinfang.documents import api as documents
from xinfang.jobs import api as jobs

from . import ledgers, people, views

app_name = "api"
urlpatterns = [
    path("cases/", views.CaseList.as_view(), name="case-list"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case-detail"),
    path("cases/<int:pk>/actions/", views.CaseActions.as_view(), name="case-actions"),
    path("cases/<int:pk>/transitions/<str:name>/", views.CaseTransition.as_view(),
         name="case-transition"),
    path("cases/<int:pk>/documents/", documents.DocumentList.as_view(), name="case-documents"),
    path("cases/<int:pk>/documents/<str:code>/corrections/",
         documents.DocumentCorrection.as_view(), name="case-document-correct"),
    path("cases/<int:pk>/documents/<str:code>/<str:fmt>/", documents.DocumentFile.as_view(),
         name="case-document-file"),
    path("ledgers/l0.xlsx", views.LedgerL0.as_view(), name="ledger-l0"),
    path("ledgers/l1.xlsx", ledgers.LedgerL1.as_view(), name="ledger-l1"),
    path("ledgers/l2.xlsx", ledgers.LedgerL2.as_view(), name="ledger-l2"),
    path("ledgers/l3.xlsx", ledgers.LedgerL3.as_view(), name="ledger-l3"),
    path("people/<int:pk>/", people.PersonDetail.as_view(), name="person"),
    path("jobs/", jobs.JobList.as_view(), name="job-list"),
    path("jobs/<int:pk>/", jobs.JobDetail.as_view(), name="job-detail"),
    path("jobs/<int:pk>/file", jobs.JobFile.as_view(), name="job-file"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
         name="schema"),
]
