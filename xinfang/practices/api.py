"""The practices over the API (``/api/practices/…``): the same services and the same door as the
pages. 200/201 done; 400 ``{"errors": {field: message}}``; 403 not allowed for this membership;
404 not found for this membership; 422 ``{"detail", "field"}`` refused by the rules now."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from xinfang.api import errors as errs
from xinfang.api.membership import acting_membership
from xinfang.api.replay import REPLAY_ERRORS, REPLAY_PARAM, replayable
from xinfang.api.serializers import flat_errors
from xinfang.api.views import (
    COMMON_ERRORS,
    MEMBERSHIP_PARAM,
    CasePagination,
    CaseView,
    Detail,
    Errors,
    Refusal,
)
from xinfang.cases import choices as c
from xinfang.cases.selectors import cases_for
from xinfang.db.plans import planned_each_time

from . import services as s
from .models import (
    Campaign,
    CampaignReport,
    CampaignTask,
    DutySlot,
    FieldVisit,
    Meeting,
    PersuadeReturn,
    ReturnVisit,
    WatchEntry,
    WatchReview,
)
from .reading import duty_receptions, meeting_status, owed_return_visits, owed_rows
from .selectors import (
    access_of,
    campaigns_for,
    duty_slots_for,
    field_visits_for,
    meetings_for,
    persuades_for,
    return_visits_for,
    tasks_for,
    watch_for,
    with_visible_cases,
)
from .services.persuade import MEMBER_LABELS

WRITE_ERRORS = {400: Errors, 403: Detail, 404: Detail, 422: Refusal}


class Page(PageNumberPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def _membership(request):
    m = acting_membership(request)
    if access_of(m) is None:
        raise PermissionDenied("您当前的角色不参与这些工作机制。")
    return m


def found(rows, what: str):
    """The view's ``post`` to the object its path names (``pk``), one of ``rows(membership)``:
    404 for one absent or out of this membership's sight alike, before the body or the
    ``Idempotency-Key`` is read — a 400 about the body (or a 409 about the key) would tell that
    an object the caller may not see exists."""

    def wrap(post):
        @wraps(post)
        def wrapper(self, request, pk: int, *args, **kwargs):
            if not rows(_membership(request)).filter(pk=pk).exists():
                raise Http404(f"未找到该{what}。")
            return post(self, request, pk, *args, **kwargs)

        return wrapper

    return wrap


def _write(fn, out, **kwargs) -> Response:
    try:
        row = fn(**kwargs)
    except s.Invalid as e:
        return errs.invalid(e.errors)
    except s.Refused as e:
        code = status.HTTP_422_UNPROCESSABLE_ENTITY if e.field else status.HTTP_403_FORBIDDEN
        kind = "refused" if e.field else "permission_denied"
        return errs.problem(code, kind, e.message, {e.field: e.message} if e.field else {},
                            field=e.field)
    return Response(out(row).data, status=status.HTTP_201_CREATED)


def _input(serializer_class, request):
    data = serializer_class(data=request.data)
    if not data.is_valid():
        return None, errs.invalid(flat_errors(data.errors))
    return data.validated_data, None


def paged(out, *, capped: bool = False):
    """The schema of a page of ``out`` rows, as ``_page`` answers (count, next, previous,
    results; ``capped``: and ``count_capped``, as ``CasePagination`` answers)."""
    extra = {"count_capped": serializers.BooleanField()} if capped else {}
    return inline_serializer(f"{out.__name__.removesuffix('Out')}Page", {
        **extra,
        "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": out(many=True),
    })


def _page(view, request, qs, out):
    paginator = Page()
    rows = paginator.paginate_queryset(qs, request, view)
    return paginator.get_paginated_response(out(rows, many=True).data)


class PracticeCaseRef(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()


# --- return visits -------------------------------------------------------------------------------


class ReturnVisitOut(serializers.ModelSerializer):
    case = PracticeCaseRef()
    visited_by = serializers.CharField(source="visited_by.full_name")
    visitor_unit = serializers.CharField(source="visitor_unit.name")
    lead_unit = serializers.CharField(source="lead_unit.name", allow_null=True, default=None)

    rating = serializers.ChoiceField(
        source="satisfaction", choices=c.Rating.choices, read_only=True, help_text="满意度"
    )

    class Meta:
        model = ReturnVisit
        fields = [
            "id",
            "case",
            "visited_at",
            "method",
            "outcome",
            "rating",
            "note",
            "visited_by",
            "visitor_unit",
            "lead_unit",
            "recorded_at",
        ]


class ReturnVisitIn(serializers.Serializer):
    case = serializers.IntegerField()
    visited_at = serializers.DateTimeField()
    method = serializers.ChoiceField(choices=ReturnVisit.Method.choices)
    outcome = serializers.ChoiceField(choices=ReturnVisit.Outcome.choices)
    rating = serializers.ChoiceField(choices=c.Rating.choices, help_text="满意度")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class OwedOut(serializers.Serializer):
    case = PracticeCaseRef()
    delivered_at = serializers.DateTimeField(allow_null=True)
    due = serializers.DateTimeField(allow_null=True)
    late = serializers.BooleanField()


class ReturnVisits(CaseView):
    @extend_schema(
        operation_id="practices_return_visits_list",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: paged(ReturnVisitOut), **COMMON_ERRORS},
    )
    def get(self, request):
        return _page(self, request, return_visits_for(_membership(request)), ReturnVisitOut)

    @extend_schema(
        operation_id="practices_return_visits_record",
        parameters=[MEMBERSHIP_PARAM],
        request=ReturnVisitIn,
        responses={201: ReturnVisitOut, **WRITE_ERRORS},
    )
    def post(self, request):
        m = _membership(request)
        d, bad = _input(ReturnVisitIn, request)
        if bad:
            return bad
        return _write(
            s.return_visit_record,
            ReturnVisitOut,
            by=m,
            case_id=d["case"],
            visited_at=d["visited_at"],
            method=d["method"],
            outcome=d["outcome"],
            satisfaction=d["rating"],
            note=d["note"],
        )


class ReturnVisitsOwed(CaseView):
    @extend_schema(
        operation_id="practices_return_visits_owed",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: paged(OwedOut, capped=True), **COMMON_ERRORS},
    )
    def get(self, request):
        m = _membership(request)
        # Counted to 10,000 and saying so (``count_capped``), as the case list: a county's
        # cases closed over the years without a visit counted in full took 0.4 s at 1M cases.
        paginator = CasePagination()
        with planned_each_time():  # see reading.owed_return_visits
            cases = paginator.paginate_queryset(owed_return_visits(cases_for(m)), request, self)
        return paginator.get_paginated_response(OwedOut(owed_rows(cases), many=True).data)


# --- meetings ------------------------------------------------------------------------------------


class MeetingOut(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name")
    cases = PracticeCaseRef(many=True, source="visible_cases")
    findings = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "rule",
            "label",
            "unit",
            "period",
            "held_on",
            "chaired_by",
            "attendees",
            "discussion",
            "measures",
            "cases",
            "findings",
            "recorded_at",
        ]


class MeetingIn(serializers.Serializer):
    rule = serializers.CharField()
    unit = serializers.IntegerField(required=False, allow_null=True, default=None)
    held_on = serializers.DateField()
    chaired_by = serializers.CharField()
    attendees = serializers.CharField()
    discussion = serializers.CharField(required=False, allow_blank=True, default="")
    measures = serializers.CharField()
    cases = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    findings = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


MissedOut = inline_serializer(
    "MeetingStatus",
    {
        "rule": serializers.CharField(),
        "label": serializers.CharField(),
        "period": serializers.CharField(),
        "missed": serializers.ListField(child=serializers.CharField()),
        "holders": serializers.IntegerField(),
        "held_this_period": serializers.IntegerField(),
    },
    many=True,
)


class Meetings(CaseView):
    @extend_schema(
        operation_id="practices_meetings_list",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: paged(MeetingOut), **COMMON_ERRORS},
    )
    def get(self, request):
        m = _membership(request)
        qs = with_visible_cases(meetings_for(m), m).prefetch_related("findings")
        return _page(self, request, qs, MeetingOut)

    @extend_schema(
        operation_id="practices_meetings_record",
        parameters=[MEMBERSHIP_PARAM, REPLAY_PARAM],
        request=MeetingIn,
        responses={201: MeetingOut, **WRITE_ERRORS, **REPLAY_ERRORS},
    )
    @replayable
    def post(self, request):
        from xinfang.org.models import Unit

        m = _membership(request)
        d, bad = _input(MeetingIn, request)
        if bad:
            return bad
        unit = Unit.objects.filter(pk=d["unit"]).first() if d["unit"] else None

        def out(row):
            return MeetingOut(
                with_visible_cases(Meeting.objects.filter(pk=row.pk), m)
                .prefetch_related("findings")
                .get()
            )

        return _write(
            s.meeting_record,
            out,
            by=m,
            rule=d["rule"],
            held_on=d["held_on"],
            chaired_by=d["chaired_by"],
            attendees=d["attendees"],
            discussion=d["discussion"],
            measures=d["measures"],
            unit=unit,
            case_ids=d["cases"],
            finding_ids=d["findings"],
        )


class MeetingStatus(CaseView):
    @extend_schema(
        operation_id="practices_meetings_status",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: MissedOut, **COMMON_ERRORS},
    )
    def get(self, request):
        m = _membership(request)
        access = access_of(m)
        return Response(
            [
                {
                    "rule": st.rule.name,
                    "label": st.rule.label,
                    "period": st.period.code,
                    "missed": [
                        u.name for u in st.missed if access.office or u.pk == access.unit.pk
                    ],
                    "holders": st.holders,
                    "held_this_period": st.held_now,
                }
                for st in meeting_status(access.home)
            ]
        )


# --- watch list ----------------------------------------------------------------------------------


class WatchOut(serializers.ModelSerializer):
    person = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.user.full_name")
    owner_unit = serializers.CharField(source="owner_unit.name")
    case = serializers.SerializerMethodField()
    stability = serializers.ChoiceField(
        source="status", choices=WatchEntry.Status.choices, read_only=True
    )

    class Meta:
        model = WatchEntry
        fields = [
            "id",
            "person",
            "case",
            "reason",
            "owner",
            "owner_unit",
            "plan",
            "stability",
            "added_at",
            "last_reviewed_at",
            "review_due",
            "released_at",
        ]

    def get_person(self, e) -> str:
        """Masked: the API never reveals a person (the entry's page does, with a reason)."""
        from xinfang.security.masking import mask_name

        return mask_name(e.petitioner.name)

    def get_case(self, e) -> str:
        return e.case.number


class WatchIn(serializers.Serializer):
    case = serializers.IntegerField()
    petitioner = serializers.IntegerField()
    owner = serializers.IntegerField(help_text="稳控责任人的任职编号 (membership id)")
    reason = serializers.CharField(max_length=200)
    plan = serializers.CharField()
    stability = serializers.ChoiceField(choices=WatchEntry.Status.choices)


class WatchReviewOut(serializers.ModelSerializer):
    stability = serializers.ChoiceField(
        source="status", choices=WatchEntry.Status.choices, read_only=True
    )

    class Meta:
        model = WatchReview
        fields = ["id", "entry", "period", "reviewed_at", "stability", "note", "plan"]


class WatchReviewIn(serializers.Serializer):
    stability = serializers.ChoiceField(choices=WatchEntry.Status.choices)
    note = serializers.CharField()
    plan = serializers.CharField(required=False, allow_blank=True, default="")


class Watch(CaseView):
    @extend_schema(
        operation_id="practices_watch_list",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: paged(WatchOut), **COMMON_ERRORS},
    )
    def get(self, request):
        return _page(
            self, request, watch_for(_membership(request)).filter(released_at=None), WatchOut
        )

    @extend_schema(
        operation_id="practices_watch_add",
        parameters=[MEMBERSHIP_PARAM],
        request=WatchIn,
        responses={201: WatchOut, **WRITE_ERRORS},
    )
    def post(self, request):
        m = _membership(request)
        d, bad = _input(WatchIn, request)
        if bad:
            return bad
        return _write(
            s.watch_add,
            WatchOut,
            by=m,
            case_id=d["case"],
            petitioner_id=d["petitioner"],
            owner_id=d["owner"],
            reason=d["reason"],
            plan=d["plan"],
            status=d["stability"],
        )


class WatchReviews(CaseView):
    @extend_schema(
        operation_id="practices_watch_review",
        parameters=[MEMBERSHIP_PARAM, REPLAY_PARAM],
        request=WatchReviewIn,
        responses={201: WatchReviewOut, **WRITE_ERRORS, **REPLAY_ERRORS},
    )
    @found(watch_for, "重点人员")
    @replayable
    def post(self, request, pk: int):
        m = _membership(request)
        d, bad = _input(WatchReviewIn, request)
        if bad:
            return bad
        return _write(
            s.watch_review,
            WatchReviewOut,
            by=m,
            entry_id=pk,
            status=d["stability"],
            note=d["note"],
            plan=d["plan"],
        )


# --- duty, field visits --------------------------------------------------------------------------


class DutyOut(serializers.ModelSerializer):
    leader = serializers.CharField(source="leader.user.full_name")

    class Meta:
        model = DutySlot
        fields = ["id", "weekday", "leader", "starts_on", "ends_on"]


class DutyIn(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="星期一为0")
    leader = serializers.IntegerField(help_text="带班领导的任职编号 (membership id)")
    starts_on = serializers.DateField()


class ReceptionOut(serializers.Serializer):
    case = PracticeCaseRef()
    received_at = serializers.DateTimeField(source="case.received_at")
    headcount = serializers.IntegerField(source="case.headcount")
    on_duty = serializers.CharField(source="on_duty.user.full_name", allow_null=True, default=None)
    in_person = serializers.CharField()


class Duty(CaseView):
    @extend_schema(
        operation_id="practices_duty_list",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: DutyOut(many=True), **COMMON_ERRORS},
    )
    def get(self, request):
        return Response(DutyOut(duty_slots_for(_membership(request)), many=True).data)

    @extend_schema(
        operation_id="practices_duty_assign",
        parameters=[MEMBERSHIP_PARAM],
        request=DutyIn,
        responses={201: DutyOut, **WRITE_ERRORS},
    )
    def post(self, request):
        m = _membership(request)
        d, bad = _input(DutyIn, request)
        if bad:
            return bad
        return _write(
            s.duty_assign,
            DutyOut,
            by=m,
            weekday=d["weekday"],
            leader_id=d["leader"],
            starts_on=d["starts_on"],
        )


class Receptions(CaseView):
    @extend_schema(
        operation_id="practices_duty_receptions",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: ReceptionOut(many=True), **COMMON_ERRORS},
    )
    def get(self, request):
        """This week's visits (Monday to Sunday), with the leader on duty each day and the
        leader who received a 5-person visit in person."""
        from datetime import datetime, time, timedelta

        m = _membership(request)
        today = timezone.localdate()
        start = datetime.combine(
            today - timedelta(days=today.weekday()),
            time.min,
            tzinfo=timezone.get_current_timezone(),
        )
        rows = duty_receptions(m, access_of(m).home, start, start + timedelta(days=7))
        return Response(ReceptionOut(rows, many=True).data)


class FieldVisitOut(serializers.ModelSerializer):
    cadre = serializers.CharField(source="cadre.user.full_name")
    village = serializers.CharField(source="village.name")
    cases = PracticeCaseRef(many=True, source="visible_cases")

    class Meta:
        model = FieldVisit
        fields = ["id", "cadre", "village", "visited_on", "on_poverty_day", "cases", "note"]


class FieldVisitIn(serializers.Serializer):
    village = serializers.IntegerField()
    visited_on = serializers.DateField()
    note = serializers.CharField()
    cases = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class FieldVisits(CaseView):
    @extend_schema(
        operation_id="practices_field_visits_list",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: paged(FieldVisitOut), **COMMON_ERRORS},
    )
    def get(self, request):
        m = _membership(request)
        return _page(self, request, with_visible_cases(field_visits_for(m), m), FieldVisitOut)

    @extend_schema(
        operation_id="practices_field_visits_record",
        parameters=[MEMBERSHIP_PARAM, REPLAY_PARAM],
        request=FieldVisitIn,
        responses={201: FieldVisitOut, **WRITE_ERRORS, **REPLAY_ERRORS},
    )
    @replayable
    def post(self, request):
        m = _membership(request)
        d, bad = _input(FieldVisitIn, request)
        if bad:
            return bad

        def out(row):
            return FieldVisitOut(with_visible_cases(field_visits_for(m).filter(pk=row.pk), m).get())

        return _write(
            s.field_visit_record,
            out,
            by=m,
            village_id=d["village"],
            visited_on=d["visited_on"],
            note=d["note"],
            case_ids=d["cases"],
        )


# --- persuade-to-return --------------------------------------------------------------------------


class PersuadeOut(serializers.ModelSerializer):
    case = PracticeCaseRef()

    class Meta:
        model = PersuadeReturn
        fields = [
            "id",
            "case",
            "level",
            "place",
            "reported_at",
            "members",
            "formed_at",
            "returned_at",
            "return_note",
            "follow_up_due",
            "follow_up_at",
            "follow_up_kind",
            "follow_up_note",
        ]


class MemberIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=list(MEMBER_LABELS.items()))
    name = serializers.CharField(max_length=50)


class PersuadeIn(serializers.Serializer):
    case = serializers.IntegerField()
    level = serializers.ChoiceField(choices=PersuadeReturn.Level.choices)
    place = serializers.CharField(max_length=100)
    reported_at = serializers.DateTimeField()
    members = MemberIn(many=True)


class ReturnedIn(serializers.Serializer):
    returned_at = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpIn(serializers.Serializer):
    follow_up_kind = serializers.ChoiceField(choices=PersuadeReturn.FollowUp.choices)
    at = serializers.DateTimeField()
    note = serializers.CharField()


class Persuades(CaseView):
    @extend_schema(
        operation_id="practices_persuade_list",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: paged(PersuadeOut), **COMMON_ERRORS},
    )
    def get(self, request):
        return _page(self, request, persuades_for(_membership(request)), PersuadeOut)

    @extend_schema(
        operation_id="practices_persuade_form",
        parameters=[MEMBERSHIP_PARAM],
        request=PersuadeIn,
        responses={201: PersuadeOut, **WRITE_ERRORS},
    )
    def post(self, request):
        m = _membership(request)
        d, bad = _input(PersuadeIn, request)
        if bad:
            return bad
        return _write(
            s.persuade_form,
            PersuadeOut,
            by=m,
            case_id=d["case"],
            level=d["level"],
            place=d["place"],
            reported_at=d["reported_at"],
            members=[dict(x) for x in d["members"]],
        )


class PersuadeReturned(CaseView):
    @extend_schema(
        operation_id="practices_persuade_returned",
        parameters=[MEMBERSHIP_PARAM],
        request=ReturnedIn,
        responses={201: PersuadeOut, **WRITE_ERRORS},
    )
    @found(persuades_for, "劝返记录")
    def post(self, request, pk: int):
        m = _membership(request)
        d, bad = _input(ReturnedIn, request)
        if bad:
            return bad
        return _write(s.persuade_returned, PersuadeOut, by=m, persuade_id=pk, **d)


class PersuadeFollowUp(CaseView):
    @extend_schema(
        operation_id="practices_persuade_follow_up",
        parameters=[MEMBERSHIP_PARAM],
        request=FollowUpIn,
        responses={201: PersuadeOut, **WRITE_ERRORS},
    )
    @found(persuades_for, "劝返记录")
    def post(self, request, pk: int):
        m = _membership(request)
        d, bad = _input(FollowUpIn, request)
        if bad:
            return bad
        return _write(
            s.persuade_follow_up,
            PersuadeOut,
            by=m,
            persuade_id=pk,
            kind=d["follow_up_kind"],
            at=d["at"],
            note=d["note"],
        )


# --- campaigns -----------------------------------------------------------------------------------


class TaskOut(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name")

    class Meta:
        model = CampaignTask
        fields = ["id", "unit", "title", "due_on", "progress", "progress_note", "updated_at"]


class CampaignOut(serializers.ModelSerializer):
    units = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Campaign
        fields = ["id", "name", "goals", "starts_on", "ends_on", "units", "created_at"]


class CampaignIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    goals = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    units = serializers.ListField(child=serializers.IntegerField())
    cases = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    findings = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class TaskIn(serializers.Serializer):
    unit = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    due_on = serializers.DateField()


class ProgressIn(serializers.Serializer):
    progress = serializers.IntegerField(min_value=0, max_value=100)
    note = serializers.CharField()


class ReportOut(serializers.ModelSerializer):
    class Meta:
        model = CampaignReport
        fields = ["id", "campaign", "period", "summary", "at"]


class ReportIn(serializers.Serializer):
    summary = serializers.CharField()


class Campaigns(CaseView):
    @extend_schema(
        operation_id="practices_campaigns_list",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: paged(CampaignOut), **COMMON_ERRORS},
    )
    def get(self, request):
        qs = campaigns_for(_membership(request)).prefetch_related("units")
        return _page(self, request, qs, CampaignOut)

    @extend_schema(
        operation_id="practices_campaigns_create",
        parameters=[MEMBERSHIP_PARAM, REPLAY_PARAM],
        request=CampaignIn,
        responses={201: CampaignOut, **WRITE_ERRORS, **REPLAY_ERRORS},
    )
    @replayable
    def post(self, request):
        m = _membership(request)
        d, bad = _input(CampaignIn, request)
        if bad:
            return bad
        return _write(
            s.campaign_create,
            CampaignOut,
            by=m,
            name=d["name"],
            goals=d["goals"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            unit_ids=d["units"],
            case_ids=d["cases"],
            finding_ids=d["findings"],
        )


class CampaignTasks(CaseView):
    @extend_schema(
        operation_id="practices_campaign_task_add",
        parameters=[MEMBERSHIP_PARAM, REPLAY_PARAM],
        request=TaskIn,
        responses={201: TaskOut, **WRITE_ERRORS, **REPLAY_ERRORS},
    )
    @found(campaigns_for, "专项活动")
    @replayable
    def post(self, request, pk: int):
        m = _membership(request)
        d, bad = _input(TaskIn, request)
        if bad:
            return bad
        return _write(
            s.campaign_task_add,
            TaskOut,
            by=m,
            campaign_id=pk,
            unit_id=d["unit"],
            title=d["title"],
            due_on=d["due_on"],
        )


class TaskProgress(CaseView):
    @extend_schema(
        operation_id="practices_campaign_task_progress",
        parameters=[MEMBERSHIP_PARAM],
        request=ProgressIn,
        responses={201: TaskOut, **WRITE_ERRORS},
    )
    @found(tasks_for, "任务")
    def post(self, request, pk: int):
        m = _membership(request)
        d, bad = _input(ProgressIn, request)
        if bad:
            return bad
        return _write(s.campaign_task_progress, TaskOut, by=m, task_id=pk, **d)


class CampaignReports(CaseView):
    @extend_schema(
        operation_id="practices_campaign_report",
        parameters=[MEMBERSHIP_PARAM],
        request=ReportIn,
        responses={201: ReportOut, **WRITE_ERRORS},
    )
    @found(campaigns_for, "专项活动")
    def post(self, request, pk: int):
        m = _membership(request)
        d, bad = _input(ReportIn, request)
        if bad:
            return bad
        return _write(s.campaign_report, ReportOut, by=m, campaign_id=pk, summary=d["summary"])
