"""Tasks of the documents app, run by ``xinfang worker`` (django-tasks, database backend)."""

from __future__ import annotations

from django_tasks import task


@task()
def issue_at_step(case_id: int, codes: list[str], membership_id: int | None, at: str,
                  reason: str = "") -> dict:
    from datetime import datetime

    from .services import document_issue_at_step

    return document_issue_at_step(
        case_id=case_id, codes=codes, membership_id=membership_id,
        at=datetime.fromisoformat(at), reason=reason,
    )  # fmt: skip
