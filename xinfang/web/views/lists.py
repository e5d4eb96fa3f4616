"""The case ledger (台账) with its filters, and the supervision page (督查督办). Every row comes
through ``cases_for``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xinfang.cases.paging import (
    PLANNED_FILTERS,
    CappedPaginator,
    KeptPaginator,
    SearchedPaginator,
    capped_text,
)
from xinfang.cases.rates import SPLITS
from xinfang.cases.selectors import cases_counted, cases_for
from xinfang.ledgers.exports import REVEAL_ROLES
from xinfang.ledgers.filters import filter_ledger
from xinfang.org.models import names_then
from xinfang.oversight.selectors import supervision_summary
from xinfang.practices.reading import supervision_summary as practices_summary
from xinfang.registers.selectors import UNIT_KEEPERS as REGISTER_UNIT_KEEPERS
from xinfang.replica import replica_reads
from xinfang.reports.periods import KIND_LABELS, from_query
from xinfang.rules.store import current_version, profile_of

from ..context import (
    OFFICE_ROLES,
    SUPERVISION_ROLES,
    jurisdiction_of,
    membership_required,
    page,
    refuse,
)
from ..forms.ledger import FLAG_LABELS, LedgerFilterForm, filter_bar
from ..ledger import (
    active_filters,
    kept_ledger,
    ledger_rows,
    not_exported,
    sort_key,
)
from ..queues import rows
from ..supervision import (
    COUNT_CAP,
    LIST_SIZE,
    backlog_in,
    counts_by,
    first_owned,
    late_list,
    leader_owned,
    open_count,
    page_figures,
    targets_for,
    unit_rates,
    warning_rows,
)

PAGE_SIZE = 50
FILTER_FIELDS = LedgerFilterForm.base_fields
NOT_PAGED = ("page",)


def categories_of(home) -> list[str]:
    if home is None or not home.profile_code:
        return []
    return list(profile_of(current_version(home.profile_code)).categories)


@require_GET
@membership_required
@replica_reads
def ledger(request: HttpRequest) -> HttpResponse:
    m = request.membership
    now = timezone.now()
    home = jurisdiction_of(m)
    params = request.GET
    sort = sort_key(params)

    def listed(at=now):
        return ledger_rows(filter_ledger(cases_for(m), params, by=m, now=at), sort)

    def counted(at=now):
        # The count stops at 10,000 ("10000+"): a million-row ledger is not counted on every
        # page; a search tests its cases one by one, and counts to SEARCH_COUNT_CAP ("500+"). A
        # handling unit's cases are counted in the form fastest to count (``cases_counted``).
        qs = cases_counted(m)
        return filter_ledger(qs, params, by=m, now=at) if qs is not None else None

    active = active_filters(params)
    compiled = kept_ledger(m, params, sort)
    if compiled is not None:  # an office's ledger: its statements compiled once (``KeptList``)
        paginator = KeptPaginator(compiled, listed, counted, PAGE_SIZE, now=now)
    else:
        paginator = (SearchedPaginator if "search" in active else CappedPaginator)(
            listed(), PAGE_SIZE, counted=counted(),
            planned=any(name in active for name in PLANNED_FILTERS))
    page_obj = paginator.get_page(params.get("page"))
    kept = params.copy()
    for name in NOT_PAGED:
        kept.pop(name, None)
    export = kept.copy()
    export.pop("sort", None)
    skipped = not_exported(params)
    return page(
        request,
        "web/ledger.html",
        {
            "filter_bar": filter_bar(params, jurisdiction=home, categories=categories_of(home)),
            "page_obj": page_obj,
            "rows": rows(page_obj.object_list, now, lead_units=True),
            "total": page_obj.paginator.count_text,
            "extra": kept.urlencode(),
            "export_url": reverse("api:ledger-l0") + (f"?{export.urlencode()}" if export else ""),
            "export_query": export.urlencode(),
            "not_exported": [str(FILTER_FIELDS[n].label) for n in skipped if n in FILTER_FIELDS],
            "flag_labels": FLAG_LABELS,
            # the office's registers, and a unit's own lines in them (registers.selectors)
            "registers": m.role in OFFICE_ROLES or m.role in REGISTER_UNIT_KEEPERS,
            # Only these roles may ever see a petitioner in clear in a ledger (exports.py).
            "unmasked_export": m.role in REVEAL_ROLES,
        },
    )


@require_GET
@membership_required
@replica_reads
def supervision(request: HttpRequest) -> HttpResponse:
    m = request.membership
    if m.role not in SUPERVISION_ROLES:
        return refuse(request, _("督查督办页面供分管领导、主要领导和督查人员使用。"))
    now = timezone.now()
    scope = cases_for(m)
    late, late_total = late_list(scope, now)
    owned = leader_owned(scope)
    # The rates take a period (cases received in it) and split by unit (xinfang.reports.periods).
    period, period_error = from_query(request.GET)
    start, end = period.bounds() if period else (None, None)
    split = request.GET.get("split") if request.GET.get("split") in SPLITS else "unit"
    # Every figure below comes from the kept sums (xinfang.figures), exact for this reader.
    figures = page_figures(m, scope, start=start, end=end, split=split)
    notices, notice_total = warning_rows(scope, now, figures)
    backlog = backlog_in(scope, figures)
    home = jurisdiction_of(m)
    return page(
        request,
        "web/supervision.html",
        {
            "home": home,
            "open_total": open_count(figures),
            "late_rows": rows(late, now),
            "late_total": late_total,
            "notices": notices,
            "notice_total": notice_total,
            "owned": first_owned(owned),
            "owned_total": capped_text(owned, COUNT_CAP),
            "backlog": list(backlog[:LIST_SIZE]),
            "backlog_total": capped_text(backlog, COUNT_CAP),
            "targets": targets_for(home, figures),
            # a past period's units named as they were then (a unit renamed since)
            "unit_rates": unit_rates(home, figures, split=split,
                                     then=names_then(period.end) if period else None),
            # xinfang.practices: return-visit satisfaction, missed meetings, overdue reviews
            "practices": practices_summary(home, start, end),
            "period": period,
            "period_error": period_error,
            "period_kinds": KIND_LABELS,
            "split": split,
            "splits": SPLITS,
            "charts": counts_by(figures),
            "list_size": LIST_SIZE,
            # issue 17: orders, reviews, verifications and proxies (xinfang.oversight)
            "oversight": supervision_summary(m, scope, now, start, end,
                                             figures=figures.period.total,
                                             owed=figures.all.total["owed"]),
        },
    )
