"""The django-tasks tasks the worker runs: a person's job, and one period's run of a scheduled
job. Both are claimed on their own rows before they do anything, so a task delivered twice (a
retry, a second enqueue) does the work once."""

from __future__ import annotations

from django_tasks import task


def _worker(context) -> str:
    ids = context.task_result.worker_ids
    return ids[-1] if ids else ""


@task(takes_context=True)
def run_job(context, job_id: int) -> dict:
    from .services import job_run

    return job_run(job_id=job_id, worker_id=_worker(context))


@task()
def run_periodic(run_id: int) -> dict:
    from .services import periodic_run

    return periodic_run(run_id=run_id)
