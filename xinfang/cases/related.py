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
"""

from __future__ import annotations

from collections.abc import Iterable

from xinfang.db.fixed import FixedRead

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
            _deliveries(case, rows)
    return case


def _hang(rows: list, above, field) -> None:
    """Each row knows the instance it was read for (``row.<field>`` without a query)."""
    for row in rows:
        field.set_cached_value(row, above)


def _deliveries(case: Case, documents: list[Document]) -> None:
    by_document: dict[int, list[Delivery]] = {doc.pk: [] for doc in documents}
    if documents:
        for row in DOCUMENT_DELIVERIES.of(case):
            by_document[row.document_id].append(row)
    field = Delivery._meta.get_field("document")
    for doc in documents:
        _hang(by_document[doc.pk], doc, field)
        keep_related(doc, "deliveries", by_document[doc.pk])
