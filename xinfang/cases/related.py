"""A case's own rows, read whole for a page after the case came through the door.

The case page reads a dozen of the case's relations and the API's detail six, each a statement
of a few rows whose text never changes but for the case's id. ``prefetch_related`` compiles each
queryset anew on every request and builds its rows through the queryset's machinery: for one
case that was several times the statements' own time. Here each relation is read by a
``db.fixed.FixedRead``, compiled once a database, and its rows are left where a
``prefetch_related`` leaves them (``case.<name>.all()`` answers them without a query; each row
knows its case), so the code that reads them is the same either way.

Only the case's id goes into a statement: the case was admitted by the door before its rows
are asked for, and every row read here belongs to it.

A page that reads the case and its rows at once (the case page, the API's detail and a
transition's answer) asks for them with the case itself: ``read_case_compiled`` puts the
door's read of the case (compiled once per door: ``cases.selectors.read_case_through``), its
township and village and each relation's fixed statement in one statement (``db.together``),
which reads the rows only when the door admits the case. The API's detail read went from
eight statements to one, a transition with its answer from 15 to 8 (issue 9's target), the
case page's reads of the case and its rows from 13 to 1.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Subquery

from xinfang.db.fixed import FixedRead, Shape
from xinfang.db.together import Together
from xinfang.org.models import Unit

from .models import (
    Assignment,
    Attachment,
    Case,
    CaseEvent,
    CasePetitioner,
    Clock,
    Delivery,
    Demand,
    Document,
    Report,
    Respondent,
    Signature,
    WarningNotice,
)

# Each relation as the pages show it, in the order they show it (the model's own where it has
# one; a person and a respondent in the order registered).
READS: dict[str, FixedRead] = {
    "petitioner_links": FixedRead(
        lambda pk: CasePetitioner.objects.filter(case_id=pk).order_by("pk")
        .select_related("petitioner", "petitioner__township", "petitioner__village")),
    "demands": FixedRead(lambda pk: Demand.objects.filter(case_id=pk).order_by("seq")),
    "respondents": FixedRead(lambda pk: Respondent.objects.filter(case_id=pk)
                             .select_related("unit").order_by("pk")),
    "clocks": FixedRead(lambda pk: Clock.objects.filter(case_id=pk)),
    "assignments": FixedRead(lambda pk: Assignment.objects.filter(case_id=pk)
                             .select_related("unit", "signed_for_by")),
    "documents": FixedRead(lambda pk: Document.objects.filter(case_id=pk)
                           .select_related("created_by")),
    "warning_notices": FixedRead(lambda pk: WarningNotice.objects.filter(case_id=pk)
                                 .order_by("issued_at")),
    "reports": FixedRead(lambda pk: Report.objects.filter(case_id=pk)),
    "signatures": FixedRead(lambda pk: Signature.objects.filter(case_id=pk)
                            .select_related("user")),
    "attachments": FixedRead(lambda pk: Attachment.objects.filter(case_id=pk)
                             .select_related("uploaded_by")),
    "events": FixedRead(lambda pk: CaseEvent.objects.filter(case_id=pk)
                        .select_related("actor", "actor_unit")),
}
# The decision letters' and notices' deliveries, hung on their documents.
DOCUMENT_DELIVERIES = FixedRead(lambda pk: Delivery.objects.filter(document__case_id=pk))


# The case's township and village, each by the case's own column (the case's read decides
# whether any of its rows are read: ``db.together``).
PLACES = {
    name: (lambda pk, name=name: Unit.objects.filter(
        pk=Subquery(Case.objects.filter(pk=pk).values(f"{name}_id")[:1])).order_by())
    for name in ("township", "village")
}
_TOGETHER: dict[tuple[str, ...], Together] = {}


def read_case_compiled(head: Shape, params, pk: int, names: Iterable[str], *, using: str
                       ) -> Case:
    """The case the door's read ``head`` (compiled already, keyed by the case's id, bound with
    ``params``: ``cases.selectors.read_case_through``) admits as ``pk``, its township and
    village, and ``names`` (keys of ``READS``; ``documents`` with their deliveries), all in one
    statement (``db.together``). ``Case.DoesNotExist`` when the door admits none: then none of
    its rows was read."""
    names = tuple(names)
    cases, rows = _together(names).read(head, params, pk, using=using)
    return _with_rows(cases, rows, names)


def _together(names: tuple[str, ...]) -> Together:
    together = _TOGETHER.get(names)
    if together is None:
        parts = dict(PLACES)
        parts.update((name, READS[name].make) for name in names)
        if "documents" in names:
            parts["deliveries"] = DOCUMENT_DELIVERIES.make
        together = _TOGETHER[names] = Together(parts)
    return together


def _with_rows(cases: list[Case], rows: dict[str, list], names: tuple[str, ...]) -> Case:
    if not cases:
        raise Case.DoesNotExist
    case = cases[0]
    for name in ("township", "village"):
        if rows[name]:
            Case._meta.get_field(name).set_cached_value(case, rows[name][0])
    for name in names:
        _hang(rows[name], case, Case._meta.get_field(name).field)
        keep_related(case, name, rows[name])
    if "documents" in names:
        _deliveries(case, rows["documents"], rows["deliveries"])
    return case


def keep_related(instance, name: str, rows: list) -> None:
    """Make ``instance.<name>.all()`` answer ``rows`` without a query, as ``prefetch_related``
    leaves it: for rows this request has read or written whole."""
    qs = getattr(instance, name).all()
    qs._result_cache, qs._prefetch_done = list(rows), True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = qs


def read_related(case: Case, names: Iterable[str]) -> Case:
    """Read ``names`` of ``case`` (keys of ``READS``; ``documents`` with their deliveries), one
    statement each, unless this request already holds them."""
    held = case.__dict__.get("_prefetched_objects_cache", {})
    for name in names:
        if name in held:
            continue
        rows = READS[name].of(case)
        _hang(rows, case, Case._meta.get_field(name).field)
        keep_related(case, name, rows)
        if name == "documents":
            _deliveries(case, rows, DOCUMENT_DELIVERIES.of(case) if rows else [])
    return case


def _hang(rows: list, above, field) -> None:
    """Each row knows the instance it was read for (``row.<field>`` without a query)."""
    for row in rows:
        field.set_cached_value(row, above)


def _deliveries(case: Case, documents: list[Document], deliveries: list[Delivery]) -> None:
    by_document: dict[int, list[Delivery]] = {doc.pk: [] for doc in documents}
    for row in deliveries:
        by_document[row.document_id].append(row)
    field = Delivery._meta.get_field("document")
    for doc in documents:
        _hang(by_document[doc.pk], doc, field)
        keep_related(doc, "deliveries", by_document[doc.pk])
