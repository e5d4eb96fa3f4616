"""接 — registering a case from the browser, and the small HTMX endpoints the form calls while
the clerk types: villages of a township, ID number and phone checks, earlier cases of the same
person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import CasePetitioner, Petitioner
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import (
    DemandInput,
    Invalid,
    PetitionerInput,
    Registration,
    RespondentInput,
    case_register,
)
from xinfang.cases.services.base import unit_jurisdiction
from xinfang.cases.workflow import REGISTER_ROLES
from xinfang.org.choices import Level
from xinfang.org.models import Membership, Unit
from xinfang.rules.store import current_version, profile_of
from xinfang.security.crypto import get_keyring
from xinfang.security.idcard import birth_date_of, gender_of, validate_id_number, validate_phone
from xinfang.security.names import name_index

from ..context import membership_required, page
from ..forms.registration import (
    DemandFormSet,
    PetitionerFormSet,
    RegistrationForm,
    RespondentFormSet,
)

ROW_PREFIX = re.compile(r"^p-\d{1,3}$")
MAX_MATCHES = 10


def _jurisdiction(m: Membership) -> Unit | None:
    return unit_jurisdiction(m.unit)  # the unit itself when it runs under a profile


def _refuse(request, message, status=403):
    return page(request, "web/refused.html", {"message": message}, status=status)


# -- earlier cases of the same person --------------------------------------------------------------


@dataclass
class PersonMatch:
    petitioner: Petitioner
    cases: list = field(default_factory=list)
    by_id: bool = False  # the typed ID number is this person's: the service links them itself

    @property
    def linkable(self) -> bool:
        """The clerk may say "same person": linking goes by ID number, so one must be on file."""
        return not self.by_id and bool(self.petitioner.id_number)


def earlier_matches(m: Membership, name: str, id_number: str) -> list[PersonMatch]:
    """Earlier cases, inside this membership's scope, of the person being typed: by the blind
    index of a valid ID number, then by exact name."""
    scope = cases_for(m)
    people: dict[int, PersonMatch] = {}
    links = CasePetitioner.objects.none()
    try:
        number = validate_id_number(id_number) if id_number.strip() else ""
    except ValueError:
        number = ""
    if number:
        index = get_keyring().blind_index(number, purpose="id_number")
        links = CasePetitioner.objects.filter(case__in=scope, petitioner__id_number_index=index)
    name = name.strip()
    if len(name) >= 2:  # names are encrypted: the exact name, through its blind index
        links = links | CasePetitioner.objects.filter(
            case__in=scope, petitioner__name_index=name_index(name)
        )
    for link in links.select_related("petitioner", "case").order_by("-case__received_at")[:50]:
        match = people.setdefault(link.petitioner_id, PersonMatch(link.petitioner))
        match.by_id = bool(number) and link.petitioner.id_number == number
        if link.case not in match.cases and len(match.cases) < MAX_MATCHES:
            match.cases.append(link.case)
    return sorted(people.values(), key=lambda p: not p.by_id)


def linked_petitioner(m: Membership, pk: int | None) -> Petitioner | None:
    """The earlier petitioner the clerk chose, if the clerk may see one of their cases."""
    if not pk:
        return None
    return Petitioner.objects.filter(pk=pk, case_links__case__in=cases_for(m)).first()


# -- the form --------------------------------------------------------------------------------------


def _live(form) -> bool:
    return form.has_changed() and not form.cleaned_data.get("DELETE")


def _build(form, pets, dems, resps, m: Membership):
    """The service's input from the cleaned forms, and for each list the formset index of each
    entry, so that the service's ``petitioners[i].id_number`` lands on the right row."""
    d = form.cleaned_data
    petitioners, p_index = [], []
    for i, f in enumerate(pets.forms):
        if not _live(f) and i >= pets.min_num:
            continue
        if f.cleaned_data.get("DELETE"):
            continue
        x = f.cleaned_data
        id_number = x["id_number"]
        linked = linked_petitioner(m, x.get("link"))
        if linked is not None and not id_number and linked.id_number:
            id_number = linked.id_number  # the service links people by ID number
        petitioners.append(
            PetitionerInput(
                name=x["name"],
                role=x["role"],
                gender=x["gender"],
                birth_year=x["birth_year"],
                id_number=id_number,
                phone=x["phone"],
                address=x["address"],
                exited_household=x["exited_household"],
                monitored_household=x["monitored_household"],
                confidential=x["confidential"],
            )
        )
        p_index.append(i)
    demands, d_index = [], []
    for i, f in enumerate(dems.forms):
        if f.cleaned_data.get("DELETE") or (not _live(f) and i >= dems.min_num):
            continue
        demands.append(
            DemandInput(text=f.cleaned_data["text"], category=f.cleaned_data["category"])
        )
        d_index.append(i)
    respondents = [
        RespondentInput(
            name=f.cleaned_data["name"],
            position=f.cleaned_data["position"],
            unit=f.cleaned_data["unit"],
        )
        for f in resps.forms
        if _live(f)
    ]
    registration = Registration(
        channel=d["channel"],
        kind=d["kind"],
        matter_type=d["matter_type"],
        received_at=d["received_at"],
        matter=d["matter"],
        headcount=d["headcount"],
        petitioners=petitioners,
        demands=demands,
        respondents=respondents,
        township=d["township"],
        village=d["village"],
        source_level=d["source_level"],
        source_office=d["source_office"],
        source_reference=d["source_reference"],
        leader_instruction=d["leader_instruction"],
        leader_instruction_level=d["leader_instruction_level"],
        key_case=d["key_case"],
        level_skipping=d["level_skipping"],
        extreme_behaviour=d["extreme_behaviour"],
        confidential=d["confidential"],
        concerns_misconduct=d["concerns_misconduct"],
        concerns_policy=d["concerns_policy"],
        concerns_execution=d["concerns_execution"],
    )
    return registration, p_index, d_index


ROW_ERROR = re.compile(r"^(petitioners|demands)\[(\d+)\]\.(\w+)$")


def _place_errors(errors: dict[str, str], form, pets, dems, p_index, d_index) -> list[str]:
    """Put each of the service's errors on its field; return those that belong to no field."""
    loose = []
    for key, message in errors.items():
        row = ROW_ERROR.match(key)
        if row:
            which, i, name = row.group(1), int(row.group(2)), row.group(3)
            formset, index = (pets, p_index) if which == "petitioners" else (dems, d_index)
            if i < len(index):
                target = formset.forms[index[i]]
                target.add_error(name if name in target.fields else None, message)
                continue
        if key in form.fields:
            form.add_error(key, message)
        else:
            loose.append(message)
    return loose


@never_cache
@require_http_methods(["GET", "POST"])
@membership_required
def register(request: HttpRequest) -> HttpResponse:
    m = request.membership
    if m.role not in REGISTER_ROLES:
        return _refuse(request, _("登记须由经办人办理。"))
    jurisdiction = _jurisdiction(m)
    if jurisdiction is None:
        return _refuse(request, _("您所在单位及其上级均未设置规则配置，不能登记。"))
    profile = profile_of(current_version(jurisdiction.profile_code))
    now = timezone.now()
    data = request.POST if request.method == "POST" else None
    # The clerk's last channel and category start the next form: a hall's clerk registers run
    # after run of visits about the same programme (issue 15).
    last = request.session.get(LAST_KEY) or {}
    channel = last.get("channel") if last.get("channel") in c.Channel.values else None
    category = last.get("category") if last.get("category") in profile.categories else None
    form = RegistrationForm(data, jurisdiction=jurisdiction, now=now,
                            initial={"channel": channel} if channel else None)
    pets = PetitionerFormSet(data, prefix="p")
    dems = DemandFormSet(data, prefix="d", form_kwargs={"categories": profile.categories},
                         initial=[{"category": category}] if category and data is None else None)
    resps = RespondentFormSet(data, prefix="r", form_kwargs={"jurisdiction": jurisdiction})
    loose: list[str] = []
    if data is not None:
        if all([form.is_valid(), pets.is_valid(), dems.is_valid(), resps.is_valid()]):
            registration, p_index, d_index = _build(form, pets, dems, resps, m)
            try:
                case = case_register(by=m, data=registration)
            except Invalid as e:
                loose = _place_errors(e.errors, form, pets, dems, p_index, d_index)
            except Refused as e:
                loose = [e.message]
            else:
                request.session[LAST_KEY] = {
                    "channel": registration.channel,
                    "category": registration.demands[0].category if registration.demands else "",
                }
                if case.routed is not None:
                    # Against this office: the clerk may not open the case; say where it went.
                    request.session[ROUTED_KEY] = {
                        "number": case.number,
                        **case.routed.payload(registered_by=m.unit),
                    }
                    return redirect("web:register_routed")
                messages.success(request, _("已登记，信访件编号 %(n)s。") % {"n": case.number})
                if getattr(case, "scope_reasons", None):
                    # Out of scope (seed 002 §四(一); national §19, §36): told at once.
                    messages.warning(request, _("本件不予受理：%(r)s。请办理“不予受理并引导”。")
                                     % {"r": "；".join(case.scope_reasons)})
                return redirect("web:case", pk=case.pk)
    rows = []
    for f in pets.forms:
        matches, chosen = [], None
        if f.is_bound:
            name, idn = f.data.get(f"{f.prefix}-name", ""), f.data.get(f"{f.prefix}-id_number", "")
            matches = earlier_matches(m, name, idn)
            chosen = f.data.get(f"{f.prefix}-link", "")
        rows.append(
            {
                "form": f,
                "matches": matches,
                "chosen": chosen,
                "linkable": any(x.linkable for x in matches),
            }
        )
    status = 400 if data is not None else 200
    return page(
        request,
        "web/register.html",
        {
            "form": form,
            "pets": pets,
            "rows": rows,
            "dems": dems,
            "resps": resps,
            "loose": loose,
            "jurisdiction": jurisdiction,
            "profile": profile,
        },
        status=status,
    )


ROUTED_KEY = "registered_routed"
LAST_KEY = "register_last"  # the channel and category of the clerk's last registration


@never_cache
@require_GET
@membership_required
def register_routed(request: HttpRequest) -> HttpResponse:
    """Where the clerk's last registration went when it named this office as respondent. Shows
    only what the session kept from that registration: the case itself is out of the clerk's
    sight."""
    routed = request.session.get(ROUTED_KEY)
    if not routed or request.membership.role not in REGISTER_ROLES:
        return redirect("web:register")
    return page(request, "web/registered_routed.html", {"routed": routed})


# -- HTMX endpoints --------------------------------------------------------------------------------


def _registering(view):
    """The HTMX endpoints serve the registration form only: a registering membership."""

    def wrapper(request, *args, **kwargs):
        if request.membership.role not in REGISTER_ROLES:
            return HttpResponse(status=403)
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


@require_GET
@membership_required
@_registering
def villages(request: HttpRequest) -> HttpResponse:
    jurisdiction = _jurisdiction(request.membership)
    raw = request.GET.get("township", "")
    options = Unit.objects.none()
    if raw.isdigit() and jurisdiction is not None:
        options = Unit.objects.filter(
            parent_id=int(raw),
            level=Level.VILLAGE,
            is_active=True,
            path__startswith=jurisdiction.path,
        ).order_by("name")
    return render(request, "web/partials/village_options.html", {"villages": options})


def _row_value(request: HttpRequest, suffix: str) -> tuple[str, str]:
    for key, value in request.POST.items():
        if key.endswith(suffix):
            prefix = key[: -len(suffix)]
            if ROW_PREFIX.match(prefix):
                return prefix, value
    return "", ""


@never_cache
@require_POST
@membership_required
@_registering
def check_petitioner(request: HttpRequest) -> HttpResponse:
    """The ID number check and the earlier cases of the person, as two out-of-band swaps."""
    prefix, id_number = _row_value(request, "-id_number")
    name_prefix, name = _row_value(request, "-name")
    prefix = prefix or name_prefix
    if not prefix:
        return HttpResponse(status=400)
    ok = error = ""
    if id_number.strip():
        try:
            number = validate_id_number(id_number)
            gender = _("男") if gender_of(number) == "male" else _("女")
            ok = _("号码有效：出生日期 %(d)s，%(g)s") % {"d": birth_date_of(number), "g": gender}
        except ValueError as e:
            error = str(e)
    matches = earlier_matches(request.membership, name, id_number)
    return render(
        request,
        "web/partials/petitioner_check.html",
        {
            "prefix": prefix,
            "ok": ok,
            "error": error,
            "matches": matches,
            "chosen": "",
            "linkable": any(x.linkable for x in matches),
        },
    )


@never_cache
@require_POST
@membership_required
@_registering
def check_phone(request: HttpRequest) -> HttpResponse:
    _prefix, phone = _row_value(request, "-phone")
    ok = error = ""
    if phone.strip():
        try:
            ok = _("号码有效：%(p)s") % {"p": validate_phone(phone)}
        except ValueError as e:
            error = str(e)
    return render(request, "web/partials/live_check.html", {"ok": ok, "error": error})
