"""The periodic pass (``settings.XINFANG_PERIODIC["practices"]``, also ``xinfang practices
sweep``): what is due or missed goes into the inbox of whoever must act, once each
(``PracticeFlag.key``), and is kept as evidence for the supervision page and the scorecard.

- a return visit not made ``practices.return_visit.within`` after delivery → the lead unit;
- a watch-list review not made by the end of its period → the owner's unit;
- a meeting a holder did not hold in the last completed period → the holder (the office for
  its own meetings);
- a follow-up talk not held in time after a persuade-to-return → the office;
- a campaign task past its deadline → the task's unit; a campaign's report missing for the last
  completed period → the office.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from xinfang.cases.models import Case
from xinfang.db.plans import planned_each_time
from xinfang.notify.models import Kind, Notice
from xinfang.org.models import Unit

from .models import Campaign, CampaignReport, CampaignTask, PersuadeReturn, PracticeFlag, WatchEntry
from .reading import meeting_status, owed_return_visits, owed_rows
from .rules import campaign_period, practices_of
from .services.return_visits import lead_unit_id

BATCH = 500  # per kind and jurisdiction each pass; the next pass takes the rest


@dataclass
class Item:
    key: str
    kind: str
    unit_id: int
    text: str
    todo: str
    link: str = ""
    case_id: int | None = None


@dataclass
class Result:
    flagged: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.flagged)


def _when(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def run() -> dict:
    return sweep(at=timezone.now()).as_dict()


def sweep(*, at: datetime) -> Result:
    result = Result()
    for home in Unit.objects.exclude(profile_code="").order_by("pk"):
        items = (
            _return_visits(home, at)
            + _watch(home, at)
            + _meetings(home, at)
            + _persuades(home, at)
            + _campaigns(home, at)
        )
        for kind, n in _flag(home, items, at).items():
            result.flagged[kind] = result.flagged.get(kind, 0) + n
    return result


@transaction.atomic
def _flag(home: Unit, items: list[Item], at: datetime) -> dict[str, int]:
    """Write the flags not yet written and a notice for each (two queries and two inserts)."""
    if not items:
        return {}
    known = set(
        PracticeFlag.objects.filter(key__in=[i.key for i in items]).values_list("key", flat=True)
    )
    new = [i for i in items if i.key not in known]
    PracticeFlag.objects.bulk_create(
        [
            PracticeFlag(
                key=i.key,
                case_id=i.case_id,
                jurisdiction=home,
                unit_id=i.unit_id,
                kind=i.kind,
                text=i.text[:300],
                at=at,
            )
            for i in new
        ],
        ignore_conflicts=True,
    )
    Notice.objects.bulk_create(
        [
            Notice(
                case_id=i.case_id,
                kind=i.kind,
                unit_id=i.unit_id,
                role="",
                text=i.text[:300],
                todo=i.todo,
                link=i.link,
                needs_reason=True,
                created_at=at,
            )
            for i in new
        ]
    )
    counts: dict[str, int] = {}
    for i in new:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return counts


def _return_visits(home: Unit, at: datetime) -> list[Item]:
    practices = practices_of(home)
    if practices.return_visit_within is None:
        return []
    flagged = PracticeFlag.objects.filter(case=OuterRef("pk"), kind=Kind.RETURN_VISIT)
    with planned_each_time():  # see reading.owed_return_visits
        cases = list(owed_return_visits(Case.objects.filter(jurisdiction=home))
                     .exclude(Exists(flagged))[:BATCH])
    items = []
    for row in owed_rows(cases):
        if row.due is None or row.due >= at:
            continue
        unit = lead_unit_id(row.case) or home.pk
        items.append(
            Item(
                f"rv:{row.case.pk}",
                Kind.RETURN_VISIT,
                unit,
                f"{row.case.number} 回访逾期：应于{_when(row.due)}前回访",
                "请回访信访人并记录回访结果和满意度",
                reverse("practices:return_visits"),
                row.case.pk,
            )
        )
    return items


def _unflagged(qs, *parts):
    """Rows of ``qs`` whose flag key (``parts`` joined, as the Item's key) is not written yet: a
    steady pass reads only what is new, however many are flagged already."""
    key = Concat(
        *[p if not isinstance(p, str) else Value(p) for p in parts], output_field=CharField()
    )
    return qs.alias(xf_key=key).exclude(Exists(PracticeFlag.objects.filter(key=OuterRef("xf_key"))))


def _text(field: str):
    return Cast(field, CharField())


def _watch(home: Unit, at: datetime) -> list[Item]:
    today = timezone.localdate(at)
    entries = _unflagged(
        WatchEntry.objects.filter(jurisdiction=home, released_at=None, review_due__lt=today),
        "watch:",
        _text("pk"),
        ":",
        _text("review_due"),
    ).order_by("review_due", "pk")
    return [
        Item(
            f"watch:{e.pk}:{e.review_due}",
            Kind.WATCH,
            e.owner_unit_id,
            f"重点人员（列管编号{e.pk}）复核逾期：应于{e.review_due}前复核稳控情况",
            "请复核稳定状态并记录稳控措施",
            reverse("practices:watch_entry", args=[e.pk]),
        )
        for e in entries[:BATCH]
    ]


def _meetings(home: Unit, at: datetime) -> list[Item]:
    items = []
    for status in meeting_status(home, timezone.localdate(at)):
        for unit in status.missed:
            items.append(
                Item(
                    f"meeting:{status.rule.name}:{unit.pk}:{status.period.code}",
                    Kind.MEETING,
                    unit.pk,
                    f"{unit.name}{status.period.label}未召开{status.rule.label}",
                    "请召开会议并记录参会人员、研究事项和议定措施",
                    reverse("practices:meetings"),
                )
            )
    return items


def _persuades(home: Unit, at: datetime) -> list[Item]:
    rows = _unflagged(
        PersuadeReturn.objects.filter(jurisdiction=home, follow_up_at=None, follow_up_due__lt=at),
        "persuade:",
        _text("pk"),
    ).select_related("case")[:BATCH]
    return [
        Item(
            f"persuade:{r.pk}",
            Kind.PERSUADE,
            home.pk,
            f"{r.case.number} 劝返回后未按时跟进约访（时限{_when(r.follow_up_due)}）",
            "请片长会同派出所落实约访、约谈等措施并记录",
            reverse("practices:persuade", args=[r.pk]),
            r.case_id,
        )
        for r in rows
    ]


def _campaigns(home: Unit, at: datetime) -> list[Item]:
    today = timezone.localdate(at)
    items = [
        Item(
            f"ctask:{t.pk}",
            Kind.CAMPAIGN,
            t.unit_id,
            f"专项活动“{t.campaign.name}”任务逾期：{t.title}（时限{t.due_on}，进度{t.progress}%）",
            "请报告任务进展",
            reverse("practices:campaign", args=[t.campaign_id]),
        )
        for t in _unflagged(
            CampaignTask.objects.filter(
                campaign__jurisdiction=home, due_on__lt=today, progress__lt=100
            ),
            "ctask:",
            _text("pk"),
        ).select_related("campaign")[:BATCH]
    ]
    period = campaign_period(practices_of(home), today)
    if period is not None:
        last = period.previous()
        reported = CampaignReport.objects.filter(campaign=OuterRef("pk"), period=last.code)
        for campaign in Campaign.objects.filter(
            jurisdiction=home, starts_on__lt=last.end, ends_on__gte=last.start
        ).exclude(Exists(reported))[:BATCH]:
            items.append(
                Item(
                    f"creport:{campaign.pk}:{last.code}",
                    Kind.CAMPAIGN,
                    home.pk,
                    f"专项活动“{campaign.name}”{last.label}未报告进展",
                    "请报送本期专项活动进展报告",
                    reverse("practices:campaign", args=[campaign.pk]),
                )
            )
    return items
