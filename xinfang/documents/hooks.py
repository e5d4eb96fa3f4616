"""The documents app's one hook into the workflow: ``transitions.perform`` calls
``after_transition`` inside its transaction. For a transition that issues instruments
(``instruments.ISSUED_AT_STEP``) it queues, once the transaction commits
(``transaction.on_commit``), the task that freezes them — never for a transition rolled back,
and no query inside the transition itself. If queueing fails after the commit (the database gone
that instant) the transition stands and the error is logged: the fallback is a user's request
(the case page's 出具 button, the API's ``issue`` action, the ``document`` command: a POST or a
command, never a download), since ``document_issue`` freezes a document not yet frozen and
returns the frozen one otherwise — so the task, a retry of it and a request racing it make one
version."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction


def after_transition(name: str, *, case, by, at: datetime, params: dict) -> None:
    from .instruments import issued_at_step

    codes = issued_at_step(name, params)
    if not codes:
        return
    case_id, membership_id = case.pk, (by.pk if by is not None else None)
    # A reassignment issues the sheet again naming the new unit: a correction, with its reason.
    reason = f"改派：{params.get('reason', '')}" if name == "reassign" else ""

    def enqueue() -> None:
        from .tasks import issue_at_step

        issue_at_step.enqueue(
            case_id=case_id, codes=list(codes), membership_id=membership_id, at=at.isoformat(),
            reason=reason,
        )

    transaction.on_commit(enqueue, robust=True)
