from django.urls import path

from .views import (
    account,
    admin,
    audit,
    auth,
    cases,
    exports,
    home,
    lists,
    people,
    profiles,
    public,
    recusal,
    registers,
    registration,
    rules,
    security,
)

app_name = "web"
urlpatterns = [
    path("", home.root, name="root"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("membership/", auth.switch_membership, name="switch_membership"),
    path("account/password/", account.account_password, name="account_password"),
    path("account/totp/", account.account_totp, name="account_totp"),
    path("work/", home.home, name="home"),
    # 接 — registration and the endpoints its form calls while typing
    path("register/", registration.register, name="register"),
    path("register/routed/", registration.register_routed, name="register_routed"),
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
    path("cases/<int:pk>/ownership/<int:item>/", people.ownership_item, name="ownership_item"),
    path("people/<int:pk>/", people.person, name="person"),
    path("ownership/villages/", people.village_leaders, name="village_leaders"),
    path("cases/<int:pk>/attachments/", cases.attachment_upload, name="attachment_upload"),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/",
        cases.attachment_download,
        name="attachment_download",
    ),
    # 回避: declaring and withdrawing recusals
    path("recusals/", recusal.recusals, name="recusals"),
    path("recusals/<int:pk>/withdraw/", recusal.recusal_withdraw_view, name="recusal_withdraw"),
    # the ledger (台账) and its three registers, the supervision page
    path("ledger/", lists.ledger, name="ledger"),
    path("ledger/export/", exports.ledger_export, name="ledger_export"),
    path("ledger/screening/", registers.screening, name="screening"),
    path(
        "ledger/screening/<int:pk>/to-case/",
        registers.screening_convert,
        name="screening_convert",
    ),
    path("ledger/backlog/", registers.backlog, name="backlog"),
    path(
        "ledger/backlog/<int:pk>/progress/",
        registers.backlog_add_progress,
        name="backlog_progress",
    ),
    path("ledger/roster/", registers.roster, name="roster"),
    path("ledger/screening/<int:pk>/keep/", registers.screening_keep, name="screening_keep"),
    path("ledger/backlog/<int:pk>/keep/", registers.backlog_keep, name="backlog_keep"),
    path("ledger/<str:code>/export/", exports.register_export, name="register_export"),
    path("supervision/", lists.supervision, name="supervision"),
    # the rules in force and the working calendar
    path("rules/profiles/", rules.profiles, name="rules_profiles"),
    path("rules/calendar/", rules.calendar, name="rules_calendar"),
    path("rules/versions/", profiles.versions, name="rules_versions"),
    path("rules/versions/sync/", profiles.sync, name="rules_versions_sync"),
    path("rules/versions/<str:code>/<int:number>/", profiles.version, name="rules_version"),
    path(
        "rules/versions/<str:code>/<int:number>/migrate/",
        profiles.migrate,
        name="rules_migrate",
    ),
    # the administrators' own pages (三员分立)
    path("admin/units/", admin.admin_units, name="admin_units"),
    path("admin/units/<int:pk>/", admin.admin_unit, name="admin_unit"),
    path("admin/units/<int:pk>/active/", admin.admin_unit_active, name="admin_unit_active"),
    path("admin/users/", admin.admin_users, name="admin_users"),
    path("admin/users/<int:pk>/", admin.admin_user, name="admin_user"),
    path("admin/users/<int:pk>/active/", admin.admin_user_active, name="admin_user_active"),
    path("admin/roles/", security.admin_roles, name="admin_roles"),
    path("admin/roles/<int:pk>/", security.admin_roles_user, name="admin_roles_user"),
    path(
        "admin/memberships/<int:pk>/revoke/",
        security.admin_membership_revoke,
        name="admin_membership_revoke",
    ),
    path("admin/roles/<int:pk>/unlock/", security.admin_unlock, name="admin_unlock"),
    path("admin/roles/<int:pk>/totp-reset/", security.admin_totp_reset, name="admin_totp_reset"),
    path("admin/keys/", security.admin_keys, name="admin_keys"),
    path(
        "admin/password-resets/",
        security.admin_password_resets,
        name="admin_password_resets",
    ),
    path("admin/audit/", audit.audit_log, name="audit_log"),
    # the petitioner's page, no sign-in
    path("progress/", public.progress, name="public"),
    path("progress/rate/", public.rate, name="public_rate"),
]
