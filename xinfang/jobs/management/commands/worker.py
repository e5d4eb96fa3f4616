"""``xinfang worker``: run background tasks (django-tasks, database backend) and the schedule.

    xinfang worker                  # until Ctrl-C / SIGTERM; a running task is let finish
    xinfang worker --once           # run what is queued (and what the schedule claims), then exit
    xinfang worker --interval 2     # seconds between polls of an empty queue
    xinfang worker --status         # health check: workers seen in the last minute (exit 1 if none)

Several workers may run at once, on one machine or several (PostgreSQL): each task runs once,
each scheduled period runs once."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError

from xinfang.jobs.registry import periodic
from xinfang.jobs.services import worker_beat
from xinfang.jobs.worker import Loop, keep_connections


class Command(BaseCommand):
    help = "后台任务进程：执行导出、导入、案卷、PDF 转换等任务，并按计划运行督办扫描等定时任务。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="执行完队列中的任务后退出")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="队列为空时的轮询间隔（秒）"
        )
        parser.add_argument("--worker-id", help="本进程的标识（默认随机生成，须各不相同）")
        parser.add_argument("--queue", default="default", help="处理的队列，逗号分隔")
        parser.add_argument("--no-schedule", action="store_true", help="不运行定时任务")
        parser.add_argument(
            "--status",
            action="store_true",
            help="健康检查：列出最近一分钟内有心跳的后台任务进程，没有则退出码为 1",
        )

    def handle(self, *args, once, interval, worker_id, queue, no_schedule, status, **options):
        if status:
            return self.status()
        if interval < 0:
            raise CommandError(f"--interval 不能为负数，收到 {interval:g}")
        if worker_id is not None and not 0 < len(worker_id) <= 64:
            raise CommandError("--worker-id 须为 1–64 个字符")
        level = logging.INFO if options["verbosity"] >= 1 else logging.WARNING
        for name in ("xinfang.jobs", "django_tasks_db", "django_tasks"):
            logger = logging.getLogger(name)
            logger.setLevel(level)
            if not logger.handlers:
                logger.addHandler(logging.StreamHandler(self.stdout))
                logger.propagate = False  # not printed twice by the root logger
        loop = Loop(
            worker_id=worker_id, queues=queue.split(","), interval=interval,
            schedule=not no_schedule,
        )  # fmt: skip
        jobs = ", ".join(f"{n} 每 {i:g} 秒" for n, (_p, i) in periodic().items()) or "无"
        self.stdout.write(f"后台任务进程 {loop.worker_id} 已启动；定时任务：{jobs}")
        self.stdout.flush()
        if once:
            ran = loop.drain()
            worker_beat(worker_id=loop.worker_id, started_at=loop.started_at, stopped=True)
            self.stdout.write(f"已执行 {ran} 个任务")
            return
        keep_connections()
        loop.install_signals()
        try:
            loop.forever()
        finally:  # also when a signal ended it while idle (SystemExit)
            self.stdout.write(
                f"后台任务进程 {loop.worker_id} 已停止（共执行 {loop.tasks_run} 个任务）"
            )
            self.stdout.flush()

    def status(self) -> None:
        from django.utils import timezone

        from xinfang.jobs.models import Job
        from xinfang.jobs.selectors import workers_alive

        alive = workers_alive()
        queued = Job.objects.filter(status=Job.Status.QUEUED).count()
        for w in alive:
            ago = (timezone.now() - w.seen_at).total_seconds()
            self.stdout.write(f"  ✓ {w.worker_id}（{w.hostname} pid {w.pid}）{ago:.0f} 秒前心跳")
        self.stdout.write(f"排队中的后台任务：{queued}")
        if not alive:
            raise CommandError(
                "最近一分钟内没有后台任务进程的心跳：请运行 xinfang worker（或 make run）。"
            )
