"""The case page and everything posted from it: the transitions ``available()`` offers, revealing a
petitioner's identity, attachments."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from xinfang.audit.services import REVEAL, audit_record
from xinfang.cases import choices as c
from xinfang.cases import disclosure
from xinfang.cases.errors import Refused, StaleCase
from xinfang.cases.memo import reading
from xinfang.cases.models import Case
from xinfang.cases.related import read_related
from xinfang.cases.selectors import case_for, history_of
from xinfang.cases.services import Invalid, available, perform, refusal
from xinfang.cases.services.base import active_assignment, is_office_of, is_upper_office_of
from xinfang.cases.services.reading import case_read_audit
from xinfang.cases.workflow import TRANSITIONS
from xinfang.db.fixed import FixedRead
from xinfang.org.choices import Role
from xinfang.org.models import Membership
from xinfang.ownership.models import OwnershipItem
from xinfang.ownership.people import may_open_person
from xinfang.ownership.services import may_follow_up
from xinfang.security.auth import client_ip
from xinfang.security.masking import mask_address, mask_id_number, mask_name, mask_phone

from ..case_sections import (
    assignments_html,
    attachments_html,
    case_head_html,
    demands_html,
    documents_html,
    oversight_links_html,
    petitioner_card_html,
    petitioners_html,
    summary_html,
    warnings_html,
)
from ..context import HANDLER_ROLES, OFFICE_ROLES, membership_required, page
from ..forms.actions import ActionForm, action_form
from ..forms.misc import RevealForm, UploadForm
from ..present import (
    actions_html,
    clock_items_html,
    clock_view,
    event_views,
    history_html,
)

UPLOAD_ROLES = {Role.CLERK, Role.APPROVER, Role.CHIEF} | HANDLER_ROLES


def get_case(m: Membership, pk: int, *, rows: tuple[str, ...] = ()) -> Case:
    try:
        return case_for(m, pk, rows=rows)
    except Case.DoesNotExist:
        raise Http404(_("没有这个信访件，或您无权查看。")) from None


# -- who may do what on the page -------------------------------------------------------------------


def _moot(name: str, case: Case, m: Membership) -> bool:
    """Offered by ``available()`` (state, role, scope) but bound to be refused by the effect for
    a reason already on record — not worth a form."""
    if name == "sign_for":
        mine = active_assignment(case, m.unit)
        return mine is not None and mine.signed_for_at is not None
    if name == "record_rating":
        return bool(case.rating)
    if name == "report_back":
        return not case.is_referred
    if name == "answer_warning":
        return not case.warning_notices.filter(answered_at=None).exists()
    if name == "open_review":
        # The review is registered by the acting clerk in their own jurisdiction, so only the
        # office one level up can open it here.
        return case.kind == c.Kind.REREVIEW or not is_upper_office_of(m.unit, case)
    return False


def offered_actions(case: Case, m: Membership) -> list[str]:
    return [n for n in available(case=case, by=m) if not _moot(n, case, m)]


def may_reveal(case: Case, m: Membership) -> bool:
    """Whether ``m`` may reveal anyone of this case at all; each person is then asked about
    (``disclosure.may_reveal_petitioner``): a confidential petitioner stays masked for the
    handling units whatever case they are in."""
    return disclosure.reveal_reach(case, m) is not disclosure.Reach.NONE


def may_upload(case: Case, m: Membership) -> bool:
    if m.role not in UPLOAD_ROLES:
        return False
    return is_office_of(m.unit, case) or active_assignment(case, m.unit) is not None


# -- rendering -------------------------------------------------------------------------------------


def _petitioners(case: Case, m: Membership, revealed: set[int], reveal_form=None):
    rows = []
    reach = disclosure.reveal_reach(case, m)
    for link in read_related(case, ["petitioner_links"]).petitioner_links.all():
        p = link.petitioner
        allowed = disclosure.may_reveal_petitioner(case, p, m, link=link, reach=reach)
        shown = allowed and p.pk in revealed
        rows.append(
            {
                "link": link,
                "p": p,
                "may_reveal": allowed,
                "confidential": disclosure.is_confidential(p, link),
                # A confidential person is linked to their page only for whom may reveal them.
                "person_url": reverse("web:person", args=[p.pk]) if may_open_person(
                    m, confidential=disclosure.is_confidential(p, link), reach=reach) else "",
                "revealed": shown,
                "name": p.name if shown else mask_name(p.name),
                "id_number": p.id_number if shown else mask_id_number(p.id_number),
                "phone": p.phone if shown else mask_phone(p.phone),
                "address": p.address if shown else mask_address(p.address),
                "reveal_form": (
                    reveal_form
                    if reveal_form is not None and reveal_form.data.get("petitioner") == str(p.pk)
                    else RevealForm(initial={"petitioner": p.pk}, auto_id=f"id_rv{p.pk}_%s")
                ),
            }
        )
    return rows


# What the page shows of the case's own rows, each read whole (``cases.related``).
PAGE_RELATIONS = ("petitioner_links", "demands", "clocks", "assignments", "documents",
                  "warning_notices", "reports", "signatures", "attachments")


# The case's 包案事项 with who updated each: one statement compiled once (``db.fixed``); their
# changes are read only for a case that has items (most have none).
_OWNERSHIP = FixedRead(lambda pk: OwnershipItem.objects.filter(case_id=pk)
                       .select_related("updated_by"))


def _ownership_items(case: Case) -> list[OwnershipItem]:
    items = _OWNERSHIP.of(case)
    if items:
        prefetch_related_objects(items, "changes__by")
    return items


def render_case(request: HttpRequest, case: Case, **kwargs) -> HttpResponse:
    # Every check ``available()`` repeats per transition is asked once (nothing is written here).
    with reading():
        return _render_case(request, case, **kwargs)


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    now: datetime | None = None,
    bound: dict[str, ActionForm] | None = None,
    notice: str = "",
    kept: ActionForm | None = None,
    revealed: set[int] | None = None,
    reveal_form=None,
    upload_form=None,
    status: int = 200,
) -> HttpResponse:
    m = request.membership
    now = now or timezone.now()
    bound = bound or {}
    # Each relation the page shows read once, in one statement compiled once (``cases.related``):
    # the instruments' checks of its 文书下载 block (documents.selectors.documents_of) and the
    # finding form and the letter's prefill (documents.fill) read these same lists.
    read_related(case, PAGE_RELATIONS)
    if m.role in OFFICE_ROLES:
        read_related(case, ["respondents"])
    actions = []
    for name in offered_actions(case, m):
        t = TRANSITIONS[name]
        form = bound.get(name) or action_form(name, case=case, membership=m, now=now)
        actions.append(
            {"name": name, "label": t.label, "step": t.step, "form": form, "open": name in bound}
        )
    clocks = sorted(case.clocks.all(), key=lambda k: (k.status != "running", k.due_at))
    documents = list(case.documents.all())
    for doc in documents:
        doc.delivery_rows = [(d, mask_name(d.recipient)) for d in doc.deliveries.all()]
    # The sections below are written in Python (``web.case_sections``), as the history is.
    csrf = csrf_input(request)
    return page(
        request,
        "web/case.html",
        {
            "case": case,
            "head_html": case_head_html(case, bool(actions)),
            "summary_html": summary_html(
                case, leader_instruction=disclosure.leader_instruction_for(case, m),
                show_query_code=m.role in OFFICE_ROLES and m.role != Role.INSPECTOR,
                respondents=list(case.respondents.all()) if m.role in OFFICE_ROLES else []),
            "now": now,
            "notice": notice,
            "kept": kept,
            "petitioners_html": petitioners_html(
                _petitioners(case, m, revealed or set(), reveal_form), case.pk, csrf),
            "demands_html": demands_html(list(case.demands.all())),  # read above, by seq
            # Written in Python (``present.clock_items_html``), as the history is.
            "clocks_html": clock_items_html([clock_view(k, now) for k in clocks]),
            "assignments_html": assignments_html(list(case.assignments.all())),
            "documents_html": documents_html(documents, list(case.signatures.all())),
            "attachments_html": attachments_html(
                case.pk, list(case.attachments.all()),
                (upload_form or UploadForm()) if may_upload(case, m) else None, csrf),
            "oversight_links_html": oversight_links_html(case.pk, m.role),
            # read above, by issued_at
            "warnings_html": warnings_html(list(case.warning_notices.all())),
            "ownership_items": _ownership_items(case),
            "ownership_statuses": OwnershipItem.Status.choices,
            "may_follow_up": may_follow_up(case, m),
            # Written in Python (``present.history_html``): a long history through the template
            # engine was a quarter of the page's CPU.
            "history": history_html(event_views(history_of(case))),
            "actions": actions,
            # Written in Python (``present.actions_html``), as the history and the clocks are.
            "actions_html": actions_html(actions, case_pk=case.pk, csrf=csrf),
        },
        status=status,
    )


# -- views -----------------------------------------------------------------------------------------


@never_cache
@require_GET
@membership_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    # the case and every row the page shows in one statement (``cases.selectors.read_case_through``)
    case = get_case(m, pk, rows=PAGE_RELATIONS + (("respondents",) if m.role in OFFICE_ROLES
                                                 else ()))
    case_read_audit(case=case, by=m, channel="web", ip=client_ip(request))
    return render_case(request, case)


@never_cache
@require_POST
@membership_required
def case_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    m = request.membership
    case = get_case(m, pk)
    if name not in TRANSITIONS:
        raise Http404(_("没有这项操作。"))
    now = timezone.now()
    form = action_form(name, case=case, membership=m, now=now, data=request.POST)
    reason = refusal(name, case=case, by=m)
    if reason is not None:
        return render_case(request, case, now=now, notice=reason, kept=form, status=409)
    if not form.is_valid():
        return render_case(request, case, now=now, bound={name: form}, status=400)
    label = TRANSITIONS[name].label
    try:
        perform(
            name, case=case, by=m, expected_version=form.cleaned_data["version"], **form.params()
        )
    except StaleCase as e:
        # Reload the case and keep what was typed, now against the current version.
        case = get_case(m, pk)
        data = request.POST.copy()
        data[f"{form.prefix}-version"] = str(case.version)
        again = action_form(name, case=case, membership=m, now=now, data=data)
        if name not in offered_actions(case, m):
            return render_case(request, case, now=now, notice=e.message, kept=again, status=409)
        again.is_valid()
        again.add_error(None, e.message)
        return render_case(request, case, now=now, bound={name: again}, status=409)
    except Invalid as e:
        for key, message in e.errors.items():
            form.add_error(form.field_for(key), message)
        return render_case(request, case, now=now, bound={name: form}, status=400)
    except Refused as e:
        form.add_error(form.field_for(e.field), e.message)
        return render_case(request, case, now=now, bound={name: form}, status=409)
    messages.success(request, _("已办理：%(label)s。") % {"label": label})
    return redirect(reverse("web:case", kwargs={"pk": pk}))


@never_cache
@require_POST
@membership_required
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one petitioner's full identity for this response only, and audit why."""
    m = request.membership
    case = get_case(m, pk)
    if not may_reveal(case, m):
        return page(
            request,
            "web/refused.html",
            {"message": _("您不能查看本件信访人的完整身份信息。")},
            status=403,
        )
    raw = request.POST.get("petitioner", "")
    form = RevealForm(request.POST, auto_id=f"id_rv{raw if raw.isdigit() else 0}_%s")
    link = None
    if form.is_valid():
        link = (
            case.petitioner_links.select_related("petitioner")
            .filter(petitioner_id=form.cleaned_data["petitioner"])
            .first()
        )
        if link is None:
            raise Http404(_("本件没有这位信访人。"))
        if not disclosure.may_reveal_petitioner(case, link.petitioner, m, link=link):
            return page(
                request,
                "web/refused.html",
                {"message": _("这位信访人要求保密，您不能查看其完整身份信息。")},
                status=403,
            )
        audit_record(
            action=REVEAL,
            actor=m.user,
            object_type="petitioner",
            object_id=link.petitioner_id,
            ip=client_ip(request),
            detail={
                "case": case.number,
                "reason": form.cleaned_data["reason"],
                "role": m.role,
                "unit": m.unit.name,
            },
        )
    revealed = {link.petitioner_id} if link else set()
    if request.headers.get("HX-Request"):
        rows = _petitioners(case, m, revealed, form)
        row = next((r for r in rows if str(r["p"].pk) == raw), None)
        if row is None:
            raise Http404
        # 200 either way: htmx swaps only successful responses, and the row shows the error.
        return HttpResponse(petitioner_card_html(row, case.pk, csrf_input(request)))
    return render_case(
        request, case, revealed=revealed, reveal_form=form, status=200 if link else 400
    )


@never_cache
@require_POST
@membership_required
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    from xinfang.cases.services.attachments import attachment_add

    m = request.membership
    case = get_case(m, pk)
    if not may_upload(case, m):
        return page(
            request,
            "web/refused.html",
            {"message": _("只有本件的受理机关或承办单位可以上传附件。")},
            status=403,
        )
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment_add(
                case=case,
                by=m,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except Refused as e:
            form.add_error("file", e.message)
        else:
            messages.success(request, _("附件已上传。"))
            return redirect(reverse("web:case", kwargs={"pk": pk}) + "#attachments")
    return render_case(request, case, upload_form=form, status=400)


@never_cache
@require_GET
@membership_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    from xinfang.cases.services.attachments import AttachmentDamaged
    from xinfang.cases.services.attachments import attachment_download as open_for

    m = request.membership
    case = get_case(m, pk)  # the door first: no case, no file
    attachment = case.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404(_("没有这个附件。"))
    try:
        f = open_for(attachment=attachment, by=m, ip=client_ip(request))
    except AttachmentDamaged as e:
        return page(request, "web/refused.html", {"message": e.message}, status=410)
    response = FileResponse(
        f,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
