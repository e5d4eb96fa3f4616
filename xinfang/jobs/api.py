"""``/api/jobs/``: start a background job, list mine, poll one, download its file. Same rule as the
pages: a job is seen only by the user who started it (others get 404)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from xinfang.api.errors import Problem, invalid
from xinfang.api.membership import acting_membership
from xinfang.api.replay import REPLAY_ERRORS, REPLAY_PARAM, replayable
from xinfang.api.views import COMMON_ERRORS, MEMBERSHIP_PARAM, CaseView, refused
from xinfang.cases.errors import Refused

from .models import Job
from .registry import INTERNAL_KINDS, kinds
from .selectors import file_withheld, job_for, jobs_recent
from .services import job_start
from .views import RECENT, download, start_params


class JobOut(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    percent = serializers.IntegerField(allow_null=True)
    file = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "label", "status", "status_label", "done", "total", "percent",
                  "message", "error", "created_at", "started_at", "finished_at", "filename",
                  "size", "sha256", "file", "expired_at"]  # fmt: skip

    def get_file(self, job: Job) -> str | None:
        done = job.status == Job.Status.DONE and job.filename and not job.file_gone
        return f"/api/jobs/{job.pk}/file" if done else None


class JobIn(serializers.Serializer):
    kind = serializers.CharField()
    params = serializers.DictField(required=False)


def _job(request, pk: int, **kw) -> Job:
    try:
        return job_for(request.user, pk, **kw)
    except Job.DoesNotExist:
        raise Http404("没有这个任务，或不是您发起的。") from None


class JobList(CaseView):
    @extend_schema(operation_id="jobs_list", responses={200: JobOut(many=True), **COMMON_ERRORS})
    def get(self, request):
        return Response(JobOut(jobs_recent(request.user, RECENT), many=True).data)

    @extend_schema(
        operation_id="jobs_start",
        parameters=[MEMBERSHIP_PARAM, REPLAY_PARAM],
        request=JobIn,
        responses={202: JobOut, **COMMON_ERRORS, **REPLAY_ERRORS},
    )
    @replayable
    def post(self, request):
        by = acting_membership(request)
        data = JobIn(data=request.data)
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        if kind not in kinds() or kind in INTERNAL_KINDS:
            choices = "、".join(k for k in kinds() if k not in INTERNAL_KINDS)
            return invalid({"kind": f"没有后台任务“{kind}”；可选：{choices}"})
        try:
            job = job_start(
                kind=kind,
                by=by,
                params=start_params(kind, data.validated_data.get("params") or {}, request),
            )
        except Refused as e:
            return refused(e, status.HTTP_400_BAD_REQUEST)
        return Response(JobOut(job).data, status=status.HTTP_202_ACCEPTED)


class JobDetail(CaseView):
    @extend_schema(operation_id="jobs_detail", responses={200: JobOut, **COMMON_ERRORS})
    def get(self, request, pk: int):
        return Response(JobOut(_job(request, pk)).data)


class JobFile(CaseView):
    @extend_schema(
        operation_id="jobs_file",
        responses={
            (200, "*/*"): OpenApiTypes.BINARY, **COMMON_ERRORS,
            410: OpenApiResponse(
                Problem, description="文件已过保留期限，或生成后权限已变化：岗位停用、申报回避"),
        },
    )
    def get(self, request, pk: int):
        job = _job(request, pk, with_file=True)
        withheld = file_withheld(job) if job.status == Job.Status.DONE and job.filename else ""
        if withheld:
            return refused(Refused(withheld), status.HTTP_410_GONE)
        if job.status != Job.Status.DONE or job.content is None:
            raise Http404("该任务没有可下载的文件。")
        return download(job)
