"""Writes of the practices: one service per intent, ``<entity>_<verb>(*, by, …)``, atomic,
audited; a practice about a case also writes a line in the case's history."""

from .base import Invalid, Refused
from .campaigns import (
    campaign_cover,
    campaign_create,
    campaign_report,
    campaign_task_add,
    campaign_task_progress,
)
from .duty import duty_assign, field_visit_record
from .meetings import meeting_record
from .persuade import persuade_follow_up, persuade_form, persuade_returned
from .return_visits import return_visit_record
from .watch import watch_add, watch_release, watch_review

__all__ = [
    "Invalid",
    "Refused",
    "campaign_cover",
    "campaign_create",
    "campaign_report",
    "campaign_task_add",
    "campaign_task_progress",
    "duty_assign",
    "field_visit_record",
    "meeting_record",
    "persuade_follow_up",
    "persuade_form",
    "persuade_returned",
    "return_visit_record",
    "watch_add",
    "watch_release",
    "watch_review",
]
