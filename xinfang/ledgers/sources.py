"""The rows of each ledger as a page shows them: ``ledger_rows(code, by, params)`` is the
permission door of that ledger narrowed by the page's filters — what the exports write, so a file
holds exactly the rows of the page it came from."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.db.models import QuerySet

from xinfang.api.filters import applied_filters
from xinfang.cases.selectors import cases_for
from xinfang.org.models import Membership
from xinfang.registers.selectors import backlog_for, findings_for, roster_for

from .filters import filter_backlog, filter_findings, filter_ledger, register_filters_applied

# Ledger code → (its rows for ``by`` under the page's filters, the filters named for the audit).
SOURCES: dict[str, tuple[Callable[[Membership, Mapping], QuerySet], Callable[[Mapping], dict]]] = {
    "l0": (lambda by, p: filter_ledger(cases_for(by), p, by=by), applied_filters),
    "l1": (lambda by, p: filter_findings(findings_for(by), p), register_filters_applied),
    "l2": (lambda by, p: filter_backlog(backlog_for(by), p), register_filters_applied),
    "l3": (lambda by, p: roster_for(by), lambda p: {}),
}


def ledger_rows(code: str, by: Membership, params: Mapping) -> QuerySet:
    return SOURCES[code][0](by, params)


def filters_of(code: str, params: Mapping) -> dict:
    return SOURCES[code][1](params)
