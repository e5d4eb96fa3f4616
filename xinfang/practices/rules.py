"""What the profile says of each practice, read once per jurisdiction; each function names the
keys it acts on (``rules.consumers``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from xinfang.org.models import Unit
from xinfang.reports.periods import Period, containing
from xinfang.rules.consumers import consumes
from xinfang.rules.deadlines import compute_due
from xinfang.rules.profile.schema import MeetingRule, Practices
from xinfang.rules.store import current_version, profile_of, working_calendar

# The weekly consultation of the base units (004 §二(一) 每周一会商) is a meeting rule of its own.
CONSULTATION = "weekly_consultation"
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def practices_of(home: Unit) -> Practices:
    if not home.profile_code:
        return Practices()
    return profile_of(current_version(home.profile_code)).practices


@consumes("practices.return_visit", by="xinfang.practices.rules.return_visit_due")
def return_visit_due(practices: Practices, delivered_at: datetime | None) -> datetime | None:
    """When the one return visit is due: ``within`` after the reply was delivered (None: the
    profile sets no limit, nothing is flagged)."""
    within = practices.return_visit_within
    if within is None or delivered_at is None:
        return None
    return compute_due(delivered_at, within.amount, within.unit, calendar=working_calendar()).due


@consumes(
    "practices.meetings", "practices.consultation", by="xinfang.practices.rules.meeting_rules"
)
def meeting_rules(practices: Practices) -> tuple[MeetingRule, ...]:
    """The meetings the profile asks for, the weekly consultation of the base units among them."""
    rules = list(practices.meetings)
    if practices.consultation_period:
        rules.append(
            MeetingRule(
                CONSULTATION,
                "基层单位信访工作会商",
                "base",
                practices.consultation_period,
                practices.consultation_seed,
            )
        )
    return tuple(rules)


def meeting_rule(practices: Practices, name: str) -> MeetingRule | None:
    return next((r for r in meeting_rules(practices) if r.name == name), None)


@consumes("practices.duty", by="xinfang.practices.rules.duty_days")
def duty_days(practices: Practices) -> tuple[tuple[int, ...], int | None]:
    """The weekdays a leader receives visitors (Monday 0) and the cadres' village-visit day."""
    return practices.duty_weekdays, practices.field_visit_weekday


@consumes("practices.persuade_return", by="xinfang.practices.rules.persuade_rule")
def persuade_rule(
    practices: Practices, returned_at: datetime
) -> tuple[tuple[str, ...], datetime | None]:
    """Who must be in the group, and by when the follow-up talk is due after the return."""
    due = None
    if practices.persuade_follow_up is not None:
        d = practices.persuade_follow_up
        due = compute_due(returned_at, d.amount, d.unit, calendar=working_calendar()).due
    return practices.persuade_group, due


@consumes("practices.watch_list", by="xinfang.practices.rules.watch_review_due")
def watch_review_due(practices: Practices, reviewed_on: date) -> date | None:
    """The last day of the period after the one reviewed in (None: no periodic review)."""
    if not practices.watch_review:
        return None
    following = containing(
        practices.watch_review, containing(practices.watch_review, reviewed_on).end
    )
    return following.end - timedelta(days=1)


@consumes("practices.campaigns", by="xinfang.practices.rules.campaign_period")
def campaign_period(practices: Practices, day: date) -> Period | None:
    """The reporting period of a campaign containing ``day`` (None: no periodic report)."""
    return containing(practices.campaign_report, day) if practices.campaign_report else None
