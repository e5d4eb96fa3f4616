"""Reads of the supervisor's practices. Everything about a case goes through the permission door
(``cases_for``): an order, review or proxy mark is listed only for those who may see its case.
An order on a unit alone is read by the issuing jurisdiction's office and inspectors and by the
unit it is addressed to (and the units above it inside that jurisdiction).

Every list here is a constant number of queries whatever its length (``select_related``, grouped
counts); tests/oversight/test_queries.py holds them to it."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from xinfang.cases import choices as c
from xinfang.cases.models import Assignment, Case
from xinfang.cases.selectors import OFFICE_READERS, _subtree, cases_for, visible_case
from xinfang.cases.services.base import unit_jurisdiction
from xinfang.db.counts import row_count
from xinfang.org.models import Membership, Unit
from xinfang.rules.consumers import consumes

from .models import CaseReview, ProxyHandling, Rectification, SupervisionBulletin, SupervisionOrder

LIST_SIZE = 50


def home_of(by: Membership | None) -> Unit | None:
    """The jurisdiction a membership acts for (its unit's, or the unit itself)."""
    if by is None:
        return None
    unit = by.unit
    return unit if unit.profile_code else unit_jurisdiction(unit)


def is_office(by: Membership | None) -> bool:
    return by is not None and by.is_active and by.role in OFFICE_READERS


def lead_unit_of(case: Case) -> Unit | None:
    a = (Assignment.objects.filter(case=case, role=c.AssignmentRole.LEAD)
         .exclude(status=c.AssignmentStatus.TRANSFERRED)
         .select_related("unit").order_by("-assigned_at", "-pk").first())
    return a.unit if a else None


def orders_for(by: Membership | None) -> QuerySet[SupervisionOrder]:
    """The orders ``by`` may read: on a case it may see, or on no case and addressed to its unit
    (or issued in its jurisdiction, for the office)."""
    if by is None or not by.is_active:
        return SupervisionOrder.objects.none()
    visible = visible_case(by)
    # Unit ids, not a join on the unit's path: the planner then reads the orders by their own
    # indexes (a join made it hash the whole unit tree for a page of fifty).
    if is_office(by):
        home = home_of(by)
        mine = Q(jurisdiction_id__in=_subtree(home.path)) if home else Q(pk__in=[])
    else:
        mine = Q(unit_id__in=_subtree(by.unit.path))
    qs = SupervisionOrder.objects.filter(
        (Q(case__isnull=False) & Q(visible)) | (Q(case__isnull=True) & mine))
    return qs.select_related("case", "unit", "issued_unit")


def orders_to_answer(by: Membership | None) -> QuerySet[SupervisionOrder]:
    """The open orders addressed to ``by``'s unit or a unit under it: its work list."""
    if by is None:
        return SupervisionOrder.objects.none()
    return orders_for(by).filter(unit_id__in=_subtree(by.unit.path), answered_at=None)


def orders_page(qs: QuerySet[SupervisionOrder], n: int = LIST_SIZE) -> list[SupervisionOrder]:
    """The first ``n`` orders of ``qs``, newest first, in two statements: the page's ids from
    the orders table alone (sorted and cut there), then those rows with their case and units —
    joining first made the database join every order of the county to the unit tree before the
    sort cut fifty."""
    ids = list(qs.order_by("-issued_at", "-pk").values_list("pk", flat=True)[:n])
    return list(SupervisionOrder.objects.filter(pk__in=ids)
                .select_related("case", "unit", "issued_unit").order_by("-issued_at", "-pk"))


def order_for(by: Membership | None, pk: int) -> SupervisionOrder:
    return orders_for(by).get(pk=pk)


def order_figures(home: Unit, start: datetime | None, end: datetime | None,
                  now: datetime) -> dict:
    """Per answering unit: orders issued, answered, answered late, open past due — one grouped
    query (a bulletin's figures, the supervision page, the scorecard)."""
    qs = SupervisionOrder.objects.filter(jurisdiction__path__under=home.path)
    if start is not None:
        qs = qs.filter(issued_at__gte=start)
    if end is not None:
        qs = qs.filter(issued_at__lt=end)
    rows = (qs.order_by().values("unit_id", "unit__name").annotate(
        issued=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        late=Count("pk", filter=Q(answered_late=True)),
        overdue=Count("pk", filter=Q(answered_at=None, due_at__lt=now)),
    ).order_by("unit__name"))
    units = [{"unit": r["unit__name"], "issued": r["issued"], "answered": r["answered"],
              "late": r["late"], "overdue": r["overdue"]} for r in rows]
    total = {k: sum(u[k] for u in units) for k in ("issued", "answered", "late", "overdue")}
    return {"units": units, "total": total}


def bulletins_for(by: Membership | None) -> QuerySet[SupervisionBulletin]:
    """Bulletins of the jurisdiction ``by`` acts in, and of the jurisdictions above it (a
    bulletin is sent down)."""
    home = home_of(by)
    if home is None or not by.is_active:
        return SupervisionBulletin.objects.none()
    above = [u.pk for u in home.ancestors()]
    qs = SupervisionBulletin.objects.filter(jurisdiction_id__in=above)
    if is_office(by):
        qs = qs | SupervisionBulletin.objects.filter(jurisdiction__path__under=home.path)
    return qs.select_related("jurisdiction", "issued_by").order_by("-issued_at", "-pk")


# ---------------------------------------------------------------- review


def reviews_of(case: Case) -> list[CaseReview]:
    return list(CaseReview.objects.filter(case=case).select_related("rectification", "by")
                .order_by("round"))


def to_review(by: Membership | None) -> QuerySet[Case]:
    """Closed cases in scope not yet passed, under a profile that reviews them, newest first:
    the reviewer's list, each annotated with its last round."""
    passed = CaseReview.objects.filter(case=OuterRef("pk"), passed=True)
    open_rect = Rectification.objects.filter(case=OuterRef("pk"), answered_at=None)
    rounds = row_count(CaseReview.objects.filter(case=OuterRef("pk")))
    # Correlated probes, not a join and GROUP BY over the whole scope: the page reads 50 rows.
    return (cases_for(by).filter(state__in=[c.State.CLOSED, c.State.ARCHIVED],
                                 profile_id__in=versions_with("review"))
            .exclude(Exists(passed))
            .annotate(rounds=rounds, waiting=Exists(open_rect))
            .order_by("-closed_at", "-pk"))


def rectifications_for(by: Membership | None) -> QuerySet[Rectification]:
    """Rectification requests on cases ``by`` may see, addressed to its unit (or under it) —
    or every one in scope, for the office."""
    if by is None or not by.is_active:
        return Rectification.objects.none()
    qs = Rectification.objects.filter(visible_case(by))
    if not is_office(by):
        qs = qs.filter(unit__path__under=by.unit.path)
    return qs.select_related("case", "unit", "review", "answered_by")


def review_figures(scope: QuerySet[Case]) -> dict:
    """Reviewed, passed at the first round, passed, waiting for rectification — one query."""
    reviews = CaseReview.objects.filter(case__in=scope.values("pk"))
    r = reviews.aggregate(  # (names apart from the fields': an aggregate may not shadow one)
        n_reviewed=Count("case", distinct=True),
        n_passed=Count("case", filter=Q(passed=True), distinct=True),
        n_first_time=Count("case", filter=Q(passed=True, round=1), distinct=True),
        n_failed_rounds=Count("pk", filter=Q(passed=False)),
    )
    return {k.removeprefix("n_"): v or 0 for k, v in r.items()}


# ---------------------------------------------------------------- proxy


def proxy_work_list(by: Membership | None) -> QuerySet[Case]:
    """The proxy agent's work list (信访代办件工作清单): the cases it carries, through the door,
    open ones first by due instant."""
    if by is None:
        return Case.objects.none()
    return (cases_for(by).filter(proxy__agent_id=by.user_id)
            .select_related("proxy", "jurisdiction", "profile")
            .order_by("closed_at", "next_due_at", "-pk"))


def proxies_in(by: Membership | None, n: int = LIST_SIZE) -> list[ProxyHandling]:
    """The newest ``n`` proxy marks on cases in scope (ids first, then the rows: see
    ``orders_page``)."""
    ids = list(ProxyHandling.objects.filter(visible_case(by))
               .order_by("-taken_at", "-pk").values_list("pk", flat=True)[:n])
    return list(ProxyHandling.objects.filter(pk__in=ids)
                .select_related("case", "agent", "agent_unit").order_by("-taken_at", "-pk"))


@consumes("oversight.verification", "oversight.review",
          by="xinfang.oversight.selectors.versions_with")
def versions_with(practice: str) -> list[int]:
    """The stored profile versions that practise ``practice`` (``review``: the closed cases are
    reviewed; ``verification``: each report-back is verified) — a short table, each version
    parsed once per process."""
    from xinfang.rules.models import ProfileVersion
    from xinfang.rules.store import profile_of

    return [pv.pk for pv in ProfileVersion.objects.all()
            if getattr(profile_of(pv).oversight, practice) is not None]


def newest_verified() -> QuerySet:
    """The verifications of the outer case's newest report-back (its ``reported_back_at``, set
    with that event): ``Exists`` of it is "verified" for the list and the kept figures alike."""
    from .models import Verification

    return Verification.objects.filter(case=OuterRef("pk"),
                                       reported_back__at__gte=OuterRef("reported_back_at"))


def verifications_owed(by: Membership | None) -> QuerySet[Case]:
    """Reported-back cases whose newest report-back has no verification, in the jurisdictions
    whose profile asks for one. A case is reported back when its ``reported_back_at`` is set:
    the report-back's effect sets it with the event, again at each report-back, and nothing
    clears it; the few such cases have their own index (``case_reported_back``). A verdict
    sending the case back is for the report-back it read: the next one is owed its own."""
    verified = newest_verified()
    # The profile compared as ``profile_id + 0``: not a column an index could serve. SQLite
    # knows nothing of an empty partial index (ANALYZE writes no statistics for it) and read
    # the county's 40,000 cases off the profile's index, one version holding them all.
    return (cases_for(by).alias(profile_plain=F("profile_id") + 0)
            .filter(profile_plain__in=versions_with("verification"),
                    reported_back_at__isnull=False)
            .exclude(Exists(verified)).order_by("-pk"))


# ---------------------------------------------------------------- the supervision page


def supervision_summary(by: Membership | None, scope: QuerySet[Case], now: datetime,
                        start: datetime | None = None, end: datetime | None = None, *,
                        figures: dict | None = None, owed: int | None = None) -> dict:
    """What the supervision page (督查督办) shows of these practices, for the period: orders per
    answering unit (issued in the period), the review of the cases received in it, the
    report-backs still to verify (all of them, whatever the period) and the proxied cases. A
    fixed number of queries. ``figures`` and ``owed``: the period's counts and the
    report-backs to verify the page read already (``xinfang.figures``)."""
    from xinfang.cases.rates import counts, in_period

    home = home_of(by)
    cases = in_period(scope, start, end)
    n = figures if figures is not None else counts(cases)
    reviews = ({"reviewed": n["reviewed"], "passed": n["review_passed"],
                "first_time": n["first_time"], "failed_rounds": n["failed_rounds"]}
               if figures is not None else review_figures(cases))
    reviews["quality"] = (reviews["passed"] / reviews["reviewed"]) if reviews["reviewed"] else None
    return {
        "orders": order_figures(home, start, end, now) if home else {"units": [], "total": {}},
        "reviews": reviews,
        "owed": owed if owed is not None else verifications_owed(by).count(),
        "proxy": {"handled": n["proxy_handled"], "accepted": n["accepted"],
                  "closed": n["proxy_closed"], "rated": n["proxy_rated"],
                  "satisfied": n["proxy_satisfied"]},
    }
