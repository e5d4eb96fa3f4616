"""Pages of cases without counting a million rows: the count stops at ``COUNT_CAP`` (the
database reads at most that many index entries), and a page shows "10000+" beyond it. Past the
cap a reader narrows the list with filters; nobody pages through ten thousand cases."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 10_000


def capped_count(qs: QuerySet, cap: int = COUNT_CAP) -> int:
    """The number of rows, or ``cap + 1`` when there are more than ``cap``."""
    # values("pk"): the annotations a page shows (the API's overdue column) are not computed
    # for every counted row.
    return qs.order_by().values("pk")[: cap + 1].count()


def capped_text(qs: QuerySet, cap: int = COUNT_CAP) -> str:
    """The count as a page shows it: "37", or "10000+" past the cap."""
    n = capped_count(qs, cap)
    return f"{cap}+" if n > cap else str(n)


class CappedPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        return min(capped_count(self.object_list, self.cap), self.cap + 1)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def count_text(self) -> str:
        return f"{self.cap}+" if self.capped else str(self.count)
