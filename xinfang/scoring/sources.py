"""Where a score's counts come from, one condition over ``Case`` per count name.

Every count is a condition the database evaluates inside one grouped query (``points.unit_scores``)
or filters by (``points.evidence``): no case is read into Python to be counted.

**Review failures** belong to the closed-case review (issue 17's ``xinfang.oversight``, another
branch). The interface: when the app ``xinfang.oversight`` is installed and its ``selectors``
module has ``review_failed() -> Q`` (a condition over ``Case``: the case failed a review round),
that condition is used; failing that, its ``CaseReview`` model (``case``, ``passed``) is read as
"a round that did not pass"; without the app the count is zero and the page says so. The setting
``XINFANG_REVIEW_FAILED_SOURCE`` (a dotted path to a function returning such a ``Q``) overrides
both.
"""

from __future__ import annotations

import importlib
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from xinfang.cases import choices as c
from xinfang.cases.models import Clock
from xinfang.cases.rates import _wanted
from xinfang.rules.profile.schema import ScorePoint

COUNT_LABELS = {
    "late": "超期件",
    "repeat": "重复访件",
    "level_skipping": "越级访件",
    "collective": "集体访件",
    "review_failed": "评查不合格件",
    "unsatisfied": "不满意件",
    "satisfied": "满意（含基本满意）件",
    "proxy_handled": "代办件",
    "closed": "办结件",
}
REPEAT = Q(repeat_count__gt=0) | Q(repeat_of__isnull=False)


def review_failed_condition() -> Q | None:
    """The condition "this case failed a closed-case review", or ``None`` where no review
    exists in this installation (then the count is 0)."""
    path = getattr(settings, "XINFANG_REVIEW_FAILED_SOURCE", "")
    if path:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)()
    if not apps.is_installed("xinfang.oversight"):
        return None
    try:
        selectors = importlib.import_module("xinfang.oversight.selectors")
    except ImportError:
        selectors = None
    if selectors is not None and callable(getattr(selectors, "review_failed", None)):
        return selectors.review_failed()
    try:
        review = apps.get_model("oversight", "CaseReview")
    except LookupError:
        return None
    return Q(Exists(review.objects.filter(case=OuterRef("pk"), passed=False)))


def reviews_available() -> bool:
    return review_failed_condition() is not None


def late_condition(clocks: tuple[str, ...], as_of: datetime) -> Q:
    """A deadline clock (of those named, or any) that stopped late, or runs past its due time at
    ``as_of``. A window (e.g. the time to ask for a review) is never late. PostgreSQL probes
    ``clock_late_or_running`` (0039), whose condition this one must imply."""
    late = Clock.objects.filter(case=OuterRef("pk"), kind="deadline").filter(
        Q(met=False) | Q(status=Clock.Status.RUNNING, due_at__lt=as_of))
    if clocks:
        late = late.filter(name__in=list(clocks))
    return Q(Exists(late))


def condition(point: ScorePoint, as_of: datetime) -> Q | None:
    """The cases ``point`` counts (``None``: none can be counted here — no reviews)."""
    rates = _wanted()  # one definition of "closed", "satisfied", "proxy handled" for everything
    match point.count:
        case "late":
            return late_condition(point.clocks, as_of)
        case "repeat":
            return REPEAT
        case "level_skipping":
            return Q(level_skipping=True)
        case "collective":
            return Q(collective=True)
        case "review_failed":
            return review_failed_condition()
        case "unsatisfied":
            return Q(rating=c.Rating.UNSATISFIED)
        case "satisfied" | "proxy_handled" | "closed":
            return rates[point.count]
    raise ValueError(f"unknown score count {point.count!r}")
