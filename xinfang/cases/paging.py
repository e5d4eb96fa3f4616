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
    return qs.order_by()[: cap + 1].count()


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
