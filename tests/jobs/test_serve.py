"""``make run`` = ``xinfang serve``: the web server and one worker as child processes, both stopped
by Ctrl-C (SIGINT) or SIGTERM; if one dies, the other is stopped too. Real processes on a fresh
SQLite database in a temporary directory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(var: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CI"}}
    env.update(
        DJANGO_SETTINGS_MODULE="xinfang.settings.local",
        XINFANG_VAR_DIR=str(var),
        XINFANG_DEBUG="0",
        XINFANG_SECRET_KEY="serve-test-only",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def var(tmp_path_factory) -> Path:
    var = tmp_path_factory.mktemp("serve-var")
    subprocess.run(
        [sys.executable, "-m", "xinfang.cli", "migrate", "--noinput", "-v", "0"],
        env=_env(var),
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return var


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not running (its parent has not reaped it yet)
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _start(var: Path, log: Path):
    port = _port()
    out = log.open("wb")
    # Its own process group, as a terminal's foreground job is: Ctrl-C signals the whole group.
    proc = subprocess.Popen(
        [sys.executable, "-m", "xinfang.cli", "serve", f"127.0.0.1:{port}"],
        env=_env(var),
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    pids = None
    served = worker = False
    while time.monotonic() < deadline and not (pids and served and worker):
        assert proc.poll() is None, log.read_text()
        text = log.read_text()
        if pids is None and (m := re.search(r"网页服务 pid (\d+)，后台任务进程 pid (\d+)", text)):
            pids = int(m.group(1)), int(m.group(2))
        worker = "已启动" in text
        if not served:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                served = True
            except OSError:
                pass
        time.sleep(0.3)
    assert pids and served and worker, log.read_text()
    return proc, pids


def _gone(pids, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("to", ["group", "supervisor"])
def test_ctrl_c_stops_the_server_and_the_worker(var, tmp_path, to):
    """Ctrl-C in a terminal (SIGINT to the whole group), or SIGINT to the supervisor alone."""
    proc, pids = _start(var, tmp_path / "serve.log")
    try:
        if to == "group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, (tmp_path / "serve.log").read_text()
        assert _gone(pids), f"children still running: {pids}"
        log = (tmp_path / "serve.log").read_text()
        assert "均已停止" in log and "后台任务进程" in log and "已停止（共执行" in log, log
        assert "演示模式" in log and "docs/operations.md" in log, "make run says it is the demo"
        assert "terminating current task" not in log, "the worker was signalled once, gently"
    finally:
        for pid in (proc.pid, *pids):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_that_dies_takes_the_server_down_with_it(var, tmp_path):
    proc, (server, worker) = _start(var, tmp_path / "serve.log")
    try:
        os.kill(worker, signal.SIGKILL)
        assert proc.wait(timeout=60) != 0
        assert _gone([server]), "the server outlived its worker"
        assert "后台任务进程已退出" in (tmp_path / "serve.log").read_text()
    finally:
        for pid in (proc.pid, server, worker):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
