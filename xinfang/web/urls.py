from django.urls import path

from .views import admin, auth, cases, home, lists, public, registration

app_name = "web"
urlpatterns = [
    path("", home.root, name="root"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("membership/", auth.switch_membership, name="switch_membership"),
    path("work/", home.home, name="home"),
    # 接 — registration and the endpoints its form calls while typing
    path("register/", registration.register, name="register"),
    path("register/villages/", registration.villages, name="register_villages"),
    path(
        "register/check/petitioner/",
        registration.check_petitioner,
        name="register_check_petitioner",
    ),
    path("register/check/phone/", registration.check_phone, name="register_check_phone"),
    # one case
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/act/<slug:name>/", cases.case_action, name="case_action"),
    path("cases/<int:pk>/reveal/", cases.reveal, name="case_reveal"),
    path("cases/<int:pk>/attachments/", cases.attachment_upload, name="attachment_upload"),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/",
        cases.attachment_download,
        name="attachment_download",
    ),
    # lists (to be grown into the filtered ledgers and dashboards)
    path("ledger/", lists.ledger, name="ledger"),
    path("supervision/", lists.supervision, name="supervision"),
    # the administrators' own pages
    path("admin/units/", admin.admin_units, name="admin_units"),
    path("admin/users/", admin.admin_users, name="admin_users"),
    path("admin/audit/", admin.audit_log, name="audit_log"),
    # the petitioner's page, no sign-in
    path("progress/", public.progress, name="public"),
    path("progress/rate/", public.rate, name="public_rate"),
]
