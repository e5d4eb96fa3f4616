"""The supervision page's figures kept as sums (issue 9: the page counted a county's 100,000
cases on every load). ``CaseFigure`` is what each case counts for, as of the last refresh;
``FigureSum`` is their sum per jurisdiction, month received, and split (lead unit, township,
demand category); ``FigureTotal`` the same over each year's months and over every month (the
page's default), so that a province's reader adds up one row per bucket and year, not one per
bucket and month (269,000 rows at 200,000 cases: 0.3–0.7 s on SQLite). ``FigureMark`` records
each refresh: the newest history entry it had seen. ``xinfang.figures.services`` keeps them and
reads them — exactly, see there."""

from __future__ import annotations

from django.db import models

# What a case counts for: the rates' counts (``xinfang.cases.rates.COUNT_LABELS``), whether it
# is open, the review figures the oversight section shows, and whether its report-back waits
# for the upper level's verification (``owed``: ``oversight.selectors.verifications_owed``).
FIGURES = (
    "received", "registered", "accepted", "replied", "delivered_written", "resolved", "closed",
    "rated", "satisfied", "proxy_handled", "proxy_closed", "proxy_rated", "proxy_satisfied",
    "reviewed", "review_passed", "resolved_passed", "open", "first_time", "failed_rounds",
    "owed",
)
DIMS = ("unit", "township", "category")


def _figure_fields(field) -> dict:
    return {name: field(default=0) for name in FIGURES}


class CaseFigure(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True,
                                related_name="+")
    jurisdiction_id = models.IntegerField()
    month = models.DateField()  # the local month the case was received in (its first day)
    lead_unit_id = models.IntegerField(null=True)
    township_id = models.IntegerField(null=True)
    categories = models.TextField(default="")  # the demands' categories, one per line
    locals().update(_figure_fields(models.SmallIntegerField))

    def __str__(self) -> str:
        return f"{self.case_id} {self.month:%Y-%m}"


class FigureSum(models.Model):
    jurisdiction_id = models.IntegerField()
    month = models.DateField()
    dim = models.CharField(max_length=8)
    key = models.CharField(max_length=200)  # the unit's or township's id, or the category
    locals().update(_figure_fields(models.IntegerField))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["jurisdiction_id", "month", "dim", "key"],
                                               name="figures_sum_one_bucket")]
        # A province's months of a period: most of its rows are of the reader's jurisdictions,
        # so they are read by month (a quarter at 1M: 22,000 of 368,000 rows, which the table
        # scan read all of). A county's are read off the unique index.
        indexes = [models.Index(fields=["month", "jurisdiction_id"], name="figures_sum_month")]

    def __str__(self) -> str:
        return f"{self.jurisdiction_id} {self.month:%Y-%m} {self.dim}:{self.key}"


class FigureTotal(models.Model):
    """``FigureSum`` added up over a year's months (``year``), or over every month (``year`` 0,
    ``EVERY_YEAR``): kept by the same refresh, by the same differences. A period's whole years
    are read here, its other months from the sums per month."""

    jurisdiction_id = models.IntegerField()
    year = models.SmallIntegerField()
    dim = models.CharField(max_length=8)
    key = models.CharField(max_length=200)
    locals().update(_figure_fields(models.IntegerField))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["jurisdiction_id", "year", "dim", "key"],
                                               name="figures_total_one_bucket")]

    def __str__(self) -> str:
        return f"{self.jurisdiction_id} {self.year or '*'} {self.dim}:{self.key}"


EVERY_YEAR = 0  # ``FigureTotal.year`` of the totals over every month


class FigureMark(models.Model):
    at = models.DateTimeField()
    upto = models.BigIntegerField()  # the newest history entry's id when the refresh began

    class Meta:
        indexes = [models.Index(fields=["at"], name="figures_mark_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} ≤ {self.upto}"
