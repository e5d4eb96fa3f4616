"""``/api/profiles/``: the system administrator's profile versions, as on the rules pages — list
the stored versions, read one (its YAML and what changed from the one before), compare two,
install a file (or check it: ``dry_run``), and see or carry out the migration of open cases to a
newer version. Every write is ``rules.versions``' service, audited there."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from xinfang.api.membership import acting_membership
from xinfang.api.renderers import SafeJSONRenderer
from xinfang.api.views import COMMON_ERRORS, MEMBERSHIP_PARAM
from xinfang.org.choices import Role
from xinfang.security.auth import client_ip

from .deadlines import SHANGHAI
from .diff import profile_diff
from .models import ProfileVersion
from .profile import ProfileError
from .store import profile_of
from .versions import (
    MigrationPlan,
    migration_plan,
    open_cases_to_migrate,
    parent_name,
    profile_install,
    profile_migrate,
    profile_versions,
    version_by_ref,
)
from .words import issue_words

PLAN_SHOWN = 200  # cases listed in a migration plan; ``total`` counts them all


def _admin(request):
    membership = acting_membership(request)
    if membership is None or membership.role != Role.SYSADMIN:
        raise PermissionDenied("规则配置版本仅系统管理员可以查看和安装。")
    return membership


def _row(code: str, number: int) -> ProfileVersion:
    row = ProfileVersion.objects.filter(code=code, version=number).first()
    if row is None:
        raise Http404("没有这个规则配置版本。")
    return row


def _iso(at):
    return at.astimezone(SHANGHAI).isoformat() if at else None


class VersionOut(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    source = serializers.CharField()
    loaded_at = serializers.DateTimeField()
    loaded_by = serializers.CharField(allow_null=True, source="loaded_by.username", default=None)
    open_cases = serializers.IntegerField()
    all_cases = serializers.IntegerField()


class ChangeOut(serializers.Serializer):
    path = serializers.CharField()
    kind = serializers.ChoiceField(choices=["added", "removed", "changed"])
    label = serializers.CharField()
    text = serializers.CharField(source="__str__")


class ProfileIssueOut(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    key = serializers.CharField()
    message = serializers.SerializerMethodField()

    def get_message(self, issue) -> str:
        return issue_words(issue.message)


class InstallIn(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False)
    source = serializers.CharField(max_length=200, default="api")
    dry_run = serializers.BooleanField(default=False)


class ProfileView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [SafeJSONRenderer]


def _changes(before: ProfileVersion | None, row: ProfileVersion) -> list:
    return profile_diff(profile_of(before), profile_of(row)) if before else []


class VersionList(ProfileView):
    @extend_schema(operation_id="profiles_list", parameters=[MEMBERSHIP_PARAM],
                   responses={200: VersionOut(many=True), **COMMON_ERRORS})
    def get(self, request):
        _admin(request)
        return Response(VersionOut(profile_versions(), many=True).data)

    @extend_schema(
        operation_id="profiles_install", parameters=[MEMBERSHIP_PARAM], request=InstallIn,
        responses={
            201: inline_serializer("ProfileInstalled", {
                "code": serializers.CharField(), "version": serializers.IntegerField(),
                "name": serializers.CharField(), "created": serializers.BooleanField(),
                "dry_run": serializers.BooleanField(),
                "previous": serializers.IntegerField(allow_null=True),
                "open_cases_on_older": serializers.IntegerField(),
                "changes": ChangeOut(many=True)}),
            400: inline_serializer("ProfileMistakes", {"errors": ProfileIssueOut(many=True)}),
            **COMMON_ERRORS,
        },
    )  # fmt: skip
    def post(self, request):
        membership = _admin(request)
        data = InstallIn(data=request.data)
        if not data.is_valid():
            return Response({"errors": [{"line": None, "key": k, "message": str(v[0])}
                                        for k, v in data.errors.items()]},
                            status=status.HTTP_400_BAD_REQUEST)  # fmt: skip
        try:
            result = profile_install(
                text=data.validated_data["text"], source=data.validated_data["source"],
                by=membership, ip=client_ip(request), dry_run=data.validated_data["dry_run"],
            )  # fmt: skip
        except ProfileError as e:
            return Response({"errors": ProfileIssueOut(e.errors, many=True).data},
                            status=status.HTTP_400_BAD_REQUEST)  # fmt: skip
        profile = result.candidate.profile
        previous = result.previous
        changes = profile_diff(profile_of(previous), profile) if previous else []
        body = {
            "code": profile.code, "version": profile.version, "name": profile.name,
            "created": result.created, "dry_run": result.dry_run,
            "previous": previous.version if previous else None,
            "open_cases_on_older": result.open_cases_on_older,
            "changes": ChangeOut(changes, many=True).data,
        }  # fmt: skip
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class VersionDetail(ProfileView):
    @extend_schema(
        operation_id="profiles_read", parameters=[MEMBERSHIP_PARAM],
        responses={200: inline_serializer("ProfileVersionDetail", {
            "code": serializers.CharField(), "version": serializers.IntegerField(),
            "name": serializers.CharField(), "extends": serializers.CharField(),
            "text": serializers.CharField(), "checksum": serializers.CharField(),
            "previous": serializers.IntegerField(allow_null=True),
            "changes": ChangeOut(many=True),
            "open_cases_on_older": serializers.IntegerField()}), **COMMON_ERRORS},
    )  # fmt: skip
    def get(self, request, code: str, number: int):
        _admin(request)
        row = _row(code, number)
        before = (ProfileVersion.objects.filter(code=code, version__lt=number)
                  .order_by("-version").first())  # fmt: skip
        newest = ProfileVersion.objects.filter(code=code).order_by("-version").first()
        return Response({
            "code": row.code, "version": row.version, "name": row.name,
            "extends": parent_name(row), "text": row.text, "checksum": row.checksum,
            "previous": before.version if before else None,
            "changes": ChangeOut(_changes(before, row), many=True).data,
            "open_cases_on_older": open_cases_to_migrate(row) if newest == row else 0,
        })  # fmt: skip


class VersionDiff(ProfileView):
    @extend_schema(
        operation_id="profiles_diff",
        parameters=[MEMBERSHIP_PARAM,
                    OpenApiParameter("a", OpenApiTypes.STR, required=True,
                                     description="code or code@version"),
                    OpenApiParameter("b", OpenApiTypes.STR, required=True,
                                     description="code or code@version")],
        responses={200: ChangeOut(many=True), 400: OpenApiTypes.OBJECT, **COMMON_ERRORS},
    )  # fmt: skip
    def get(self, request):
        _admin(request)
        rows, errors = {}, {}
        for side in ("a", "b"):
            ref = request.query_params.get(side, "")
            rows[side] = version_by_ref(ref) if ref else None
            if rows[side] is None:
                errors[side] = (f"没有规则配置版本“{ref}”（写作 代码 或 代码@版本）"
                                if ref else "必填")
        if errors:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        changes = profile_diff(profile_of(rows["a"]), profile_of(rows["b"]))
        return Response(ChangeOut(changes, many=True).data)


def _plan_body(plan: MigrationPlan, total: int) -> dict:
    return {
        "code": plan.code, "version": plan.target.version, "total": total,
        "clocks_moved": plan.clocks_moved,
        "cases": [{
            "id": move.case.pk, "number": move.case.number, "from_version": move.from_version,
            "clocks": [m.as_payload() for m in move.moves],
        } for move in plan.cases],
    }  # fmt: skip


MigrationOut = inline_serializer("ProfileMigration", {
    "code": serializers.CharField(), "version": serializers.IntegerField(),
    "total": serializers.IntegerField(), "clocks_moved": serializers.IntegerField(),
    "cases": serializers.ListField(child=serializers.DictField())})  # fmt: skip


class VersionMigration(ProfileView):
    @extend_schema(operation_id="profiles_migration_plan", parameters=[MEMBERSHIP_PARAM],
                   responses={200: MigrationOut, **COMMON_ERRORS})
    def get(self, request, code: str, number: int):
        _admin(request)
        row = _row(code, number)
        plan = migration_plan(target=row, limit=PLAN_SHOWN)
        return Response(_plan_body(plan, open_cases_to_migrate(row)))

    @extend_schema(operation_id="profiles_migrate", parameters=[MEMBERSHIP_PARAM], request=None,
                   responses={200: MigrationOut, **COMMON_ERRORS})
    def post(self, request, code: str, number: int):
        membership = _admin(request)
        row = _row(code, number)
        done = profile_migrate(target=row, by=membership, ip=client_ip(request))
        return Response(_plan_body(done, len(done.cases)))
