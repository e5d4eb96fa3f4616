"""A real HTTP receiver on 127.0.0.1 for the channel tests: it records every request that
arrives (path, query, headers, body) and answers as a DingTalk/WeCom robot or a plain webhook
would. It can be stopped and started again on the same port (the outage test)."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import register_in
from tests.web.conftest import signed_in, walk  # noqa: F401  (re-exported for the tests)


@dataclass
class Arrival:
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Receiver:
    port: int
    arrivals: list[Arrival] = field(default_factory=list)
    answer: dict = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    status: int = 200
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path="/hook", query=""):
        return f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                with receiver.lock:
                    receiver.arrivals.append(Arrival(
                        parts.path, parse_qs(parts.query), dict(self.headers.items()), body))
                data = json.dumps(receiver.answer).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver():
    r = Receiver(free_port()).start()
    yield r
    r.stop()


@pytest.fixture
def assigned_case(jianan):
    """A case assigned to 将官池镇 (lead) and 区民政局 (assisting)."""
    return walk(jianan, register_in(jianan), "assigned")
