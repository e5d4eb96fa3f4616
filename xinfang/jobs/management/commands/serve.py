"""``xinfang serve [ADDRPORT]``: the web server and one worker together (``make run``).

``xinfang serve --production`` (``make serve``) runs gunicorn (``xinfang.gunicorn_conf``) instead
of Django's development server, under the settings already chosen (``xinfang.settings.production``
in ``make serve``); without ``--production`` it says it is the demo and where the guide is.

Both run as child processes (``xinfang runserver --noreload`` and ``xinfang worker``), each in its
own session. Ctrl-C (SIGINT) or SIGTERM stops both: each child is asked once to stop (SIGTERM: the
worker finishes the task it is running), given ``--grace`` seconds, then killed. If either child
ends by itself, the other is stopped too and the exit code says so — a server without its worker
(or the reverse) is not left running half."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEMO_BANNER = (
    "【演示模式】这是一键演示（Django 开发服务器，DEBUG {debug}，演示数据），不可用于生产。\n"
    "生产部署（gunicorn、PostgreSQL、HTTPS、备份、监控）见 docs/operations.md，用 make serve 启动。"
)


class Command(BaseCommand):
    help = "同时启动网页服务和一个后台任务进程；Ctrl-C 同时停止两者。"

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport", nargs="?", default=None,
            help="演示默认 127.0.0.1:8000；--production 默认取 XINFANG_BIND",
        )  # fmt: skip
        parser.add_argument("--grace", type=float, default=10.0, help="停止时等待子进程的秒数")
        parser.add_argument(
            "--production", action="store_true",
            help="用 gunicorn（生产设置）代替开发服务器；见 docs/operations.md",
        )  # fmt: skip

    def handle(self, *args, addrport, grace, production, **options):
        base = [sys.executable, "-m", "xinfang.cli"]
        if production:
            if settings.DEBUG:
                raise CommandError(
                    "--production 不能在 DEBUG 开启时运行：请设置 "
                    "DJANGO_SETTINGS_MODULE=xinfang.settings.production（见 docs/operations.md）"
                )
            server = [
                sys.executable, "-m", "gunicorn", "-c", "python:xinfang.gunicorn_conf",
                *(["--bind", addrport] if addrport else []),
                "xinfang.wsgi:application",
            ]  # fmt: skip
        else:
            server = [*base, "runserver", "--noreload", addrport or "127.0.0.1:8000"]
            self.stdout.write(DEMO_BANNER.format(debug="开启" if settings.DEBUG else "关闭"))
        # Each child in its own session: Ctrl-C in the terminal reaches this process only, and
        # each child gets exactly one SIGTERM from it (a second signal would make the worker
        # abandon the task it is finishing).
        children = {
            "server": subprocess.Popen(server, start_new_session=True),
            "worker": subprocess.Popen([*base, "worker"], start_new_session=True),
        }
        self.stdout.write(
            f"网页服务 pid {children['server'].pid}，后台任务进程 pid {children['worker'].pid}；"
            "按 Ctrl-C 停止。"
        )
        self.stdout.flush()
        stop = {"signal": None}

        def on_signal(signum, frame):
            stop["signal"] = signum

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        ended = None
        try:
            while stop["signal"] is None and ended is None:
                for name, child in children.items():
                    if child.poll() is not None:
                        ended = name
                        break
                time.sleep(0.2)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + grace
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            for s, handler in old.items():
                signal.signal(s, handler)
        if ended is not None:
            code = children[ended].returncode
            label = "网页服务" if ended == "server" else "后台任务进程"
            self.stderr.write(f"{label}已退出（退出码 {code}），已一并停止另一进程。")
            sys.exit(code or 1)
        self.stdout.write("网页服务和后台任务进程均已停止。")
