"""接 — registering a case from the browser, and the small HTMX endpoints the form calls while
the clerk types: villages of a township, ID number and phone checks, earlier cases of the same
person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.api.membership import parse_id
from xinfang.cases import choices as c
from xinfang.cases.disclosure import revealable_link_filter
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
from xinfang.matching.selectors import MatchQuery, find_matches
from xinfang.org.choices import Level
from xinfang.org.models import Membership, Unit
from xinfang.rules.store import current_version, profile_of
from xinfang.security.crypto import get_keyring
from xinfang.security.idcard import birth_date_of, gender_of, validate_id_number, validate_phone
from xinfang.security.names import name_index
from xinfang.security.once import Repeated, form_once, repeated

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
    by_phone: bool = False  # found by the typed phone number

    @property
    def linkable(self) -> bool:
        """The clerk may say "same person" (the service then takes this person on file)."""
        return not self.by_id


def earlier_matches(m: Membership, name: str, id_number: str, phone: str = ""
                    ) -> list[PersonMatch]:
    """Earlier cases, inside this membership's scope and of people it may reveal, of the person
    being typed: by the blind index of a valid ID number or phone number, then by exact name."""
    scope = cases_for(m)
    people: dict[int, PersonMatch] = {}
    links = CasePetitioner.objects.none()
    try:
        number = validate_id_number(id_number) if id_number.strip() else ""
    except ValueError:
        number = ""
    try:
        phone = validate_phone(phone) if phone.strip() else ""
    except ValueError:
        phone = ""
    if number:
        index = get_keyring().blind_index(number, purpose="id_number")
        links = CasePetitioner.objects.filter(case__in=scope, petitioner__id_number_index=index)
    if phone:
        index = get_keyring().blind_index(phone, purpose="phone")
        links = links | CasePetitioner.objects.filter(case__in=scope,
                                                      petitioner__phone_index=index)
    name = name.strip()
    if len(name) >= 2:  # names are encrypted: the exact name, through its blind index
        links = links | CasePetitioner.objects.filter(
            case__in=scope, petitioner__name_index=name_index(name)
        )
    # A person the membership may not reveal (a confidential person, for a handling unit) is
    # never offered: the offer itself would say who they are.
    links = links.filter(**revealable_link_filter(m))
    for link in links.select_related("petitioner", "case").order_by("-case__received_at")[:50]:
        match = people.setdefault(link.petitioner_id, PersonMatch(link.petitioner))
        match.by_id = bool(number) and link.petitioner.id_number == number
        match.by_phone = bool(phone) and link.petitioner.phone == phone
        if link.case not in match.cases and len(match.cases) < MAX_MATCHES:
            match.cases.append(link.case)
    return sorted(people.values(), key=lambda p: not p.by_id)


def linked_petitioner(m: Membership, pk: int | None) -> Petitioner | None:
    """The earlier petitioner the clerk chose, if the clerk may see one of their cases and
    reveal them in it: linked into the clerk's new case, the person would be theirs to reveal
    (an office above reads a county's people masked; ``earlier_matches`` never offers them)."""
    if not pk:
        return None
    return Petitioner.objects.filter(
        pk=pk, case_links__case__in=cases_for(m), **revealable_link_filter(m, "case_links")
    ).first()


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
                petitioner_id=linked.pk if linked is not None else None,
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
    registration.repeat_of, registration.not_same = match_choices(m, form.data)
    if form.data.get(REPEAT_KEY) == "none":
        # "None is the same matter": every matter offered is recorded as not the same.
        jurisdiction = _jurisdiction(m)
        if jurisdiction is not None:
            query = match_query(form.data, jurisdiction)
            query.exclude = {x.pk for x in registration.not_same}
            registration.not_same += [x.case for x in find_matches(by=m, query=query)
                                      if x.same == "matter"]
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
                with form_once(request) as once:
                    case = case_register(by=m, data=registration)
                    once.answer(reverse("web:register_routed") if case.routed is not None
                                else reverse("web:case", args=[case.pk]))
            except Repeated as r:  # the same form sent again: the case is registered once
                return repeated(request, r)
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
            matches = earlier_matches(m, name, idn, f.data.get(f"{f.prefix}-phone", ""))
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
            "match": match_panel(m, data, jurisdiction, profile) if data is not None else None,
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
    if (township := parse_id(raw)) and jurisdiction is not None:
        options = Unit.objects.filter(
            parent_id=township,
            level=Level.VILLAGE,
            is_active=True,
            path__under=jurisdiction.path,
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
    _p, phone = _row_value(request, "-phone")
    matches = earlier_matches(request.membership, name, id_number, phone)
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
    """The phone check, and the earlier cases of the person with this phone (out of band)."""
    prefix, phone = _row_value(request, "-phone")
    ok = error = ""
    if phone.strip():
        try:
            ok = _("号码有效：%(p)s") % {"p": validate_phone(phone)}
        except ValueError as e:
            error = str(e)
    _n, name = _row_value(request, "-name")
    _i, id_number = _row_value(request, "-id_number")
    matches = earlier_matches(request.membership, name, id_number, phone) if prefix else []
    return render(request, "web/partials/phone_check.html", {
        "ok": ok, "error": error, "prefix": prefix, "matches": matches, "chosen": "",
        "linkable": any(x.linkable for x in matches)})


# -- earlier cases of the same person or the same matter (issue 14) --------------------------------

REPEAT_KEY = "match_repeat_of"  # the earlier case the clerk confirmed: this case repeats it
NOT_SAME_KEY = "match_not_same"  # earlier cases the clerk said are not the same (repeatable)
REJECT_KEY = "match_reject"  # the "not the same" button just pressed


def _ints(values) -> list[int]:
    return [pk for pk in map(parse_id, map(str, values)) if pk][:20]


def match_choices(m: Membership, data) -> tuple:
    """The clerk's confirmed earlier case and the rejected ones, as cases ``m`` may see."""
    scope = cases_for(m)
    chosen = _ints([data.get(REPEAT_KEY, "")])
    rejected = _ints(data.getlist(NOT_SAME_KEY)) if hasattr(data, "getlist") else []
    repeat_of = scope.filter(pk=chosen[0]).first() if chosen else None
    not_same = list(scope.filter(pk__in=rejected)) if rejected else []
    return repeat_of, not_same


def _unit_of(jurisdiction: Unit, raw, level: str) -> Unit | None:
    pk = parse_id(str(raw or ""))
    if pk is None:
        return None
    return Unit.objects.filter(pk=pk, level=level, path__under=jurisdiction.path).first()


def match_query(data, jurisdiction: Unit) -> MatchQuery:
    """What the clerk has typed: the first petitioner, the place, the matter and the demands."""
    demands, categories = [], []
    for key, value in data.items():
        if re.fullmatch(r"d-\d{1,3}-text", key) and value.strip():
            demands.append(value)
        elif re.fullmatch(r"d-\d{1,3}-category", key) and value.strip():
            categories.append(value)
    village = _unit_of(jurisdiction, data.get("village"), Level.VILLAGE)
    township = _unit_of(jurisdiction, data.get("township"), Level.TOWNSHIP)
    link = data.get("p-0-link", "")
    return MatchQuery(
        name=data.get("p-0-name", ""), id_number=data.get("p-0-id_number", ""),
        phone=data.get("p-0-phone", ""), township=township, village=village,
        matter=data.get("matter", ""), demands=demands, categories=categories,
        petitioner_id=parse_id(str(link or "")),
    )


def match_panel(m: Membership, data, jurisdiction: Unit, profile) -> dict:
    """The panel's context: at most three earlier cases, the clerk's choice and rejections."""
    repeat_of, not_same = match_choices(m, data)
    rejected = {x.pk for x in not_same}
    just = _ints([data.get(REJECT_KEY, "")])
    if just:
        extra = cases_for(m).filter(pk=just[0]).first()
        if extra is not None and extra.pk not in rejected:
            not_same.append(extra)
            rejected.add(extra.pk)
    query = match_query(data, jurisdiction)
    query.exclude = rejected
    found = []
    if query.name.strip() or query.id_number.strip() or query.phone.strip() or query.matter:
        found = find_matches(by=m, query=query)
    threshold = profile.matching.confirm_at
    chosen = repeat_of.pk if repeat_of is not None and repeat_of.pk not in rejected else None
    if chosen is None and REPEAT_KEY not in data:  # nothing chosen yet: what the system would
        auto = next((x for x in found if x.same == "matter" and x.petitioner_id
                     and x.score >= threshold), None)
        chosen = auto.case.pk if auto is not None else None
    return {"candidates": found, "chosen": chosen, "not_same": not_same,
            "threshold": threshold}


@never_cache
@require_POST
@membership_required
@_registering
def register_matches(request: HttpRequest) -> HttpResponse:
    """The earlier cases panel, as the clerk types (the whole form is posted)."""
    jurisdiction = _jurisdiction(request.membership)
    if jurisdiction is None:
        return HttpResponse(status=403)
    profile = profile_of(current_version(jurisdiction.profile_code))
    context = match_panel(request.membership, request.POST, jurisdiction, profile)
    return render(request, "web/partials/matches.html", {"match": context})
