"""The documents app's one hook into the workflow: ``transitions.perform`` calls
``after_transition`` inside its transaction. For a transition that issues instruments
(``instruments.ISSUED_AT_STEP``) it queues the task that freezes them; the task's row is written
in the transition's own transaction, so the worker sees it exactly when the transition commits
(and never, if it rolls back). The first download stays a fallback: ``document_issue`` freezes a
document that is not yet frozen, and returns the frozen one otherwise, so the task and a
download racing it make one version."""

from __future__ import annotations

from datetime import datetime


def after_transition(name: str, *, case, by, at: datetime, params: dict) -> None:
    from .instruments import issued_at_step

    codes = issued_at_step(name, params)
    if not codes:
        return
    from .tasks import issue_at_step

    issue_at_step.enqueue(
        case_id=case.pk, codes=list(codes), membership_id=by.pk if by is not None else None,
        at=at.isoformat(),
    )  # fmt: skip
