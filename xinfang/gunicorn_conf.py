"""gunicorn's configuration for xinfang: ``gunicorn -c python:xinfang.gunicorn_conf xinfang.wsgi``
(``make serve``, ``xinfang serve --production``, deploy/xinfang-web.service).

Tuned from the environment:

- ``XINFANG_BIND`` (default ``127.0.0.1:8000``; a unix socket: ``unix:/run/xinfang/web.sock``):
  listen on the loopback behind the TLS proxy, never on a public address;
- ``XINFANG_WEB_WORKERS`` (default 2 × cores + 1), ``XINFANG_WEB_THREADS`` (default 1);
- ``XINFANG_WEB_TIMEOUT`` seconds a request may take (default 60; exports and case files run in
  the background worker, not in a request).

The client's address and scheme are not gunicorn's business: ``forwarded_allow_ips`` is empty so
gunicorn believes no forwarding header, and ``xinfang.security.proxy`` decides from
``XINFANG_TRUSTED_PROXIES`` in the one place the audit and the throttles read.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("XINFANG_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("XINFANG_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("XINFANG_WEB_THREADS", 1))
timeout = int(os.environ.get("XINFANG_WEB_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then so no slow leak outlives a day.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = ""
proxy_allow_ips = ""
# The journal (systemd) keeps and rotates what goes to stdout/stderr.
accesslog = os.environ.get("XINFANG_ACCESS_LOG", "-")
errorlog = "-"
# The client address (already the real one if a trusted proxy forwarded it is not known here:
# gunicorn logs its peer, i.e. the proxy), method, path without the query, status, size, time.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# gunicorn 27's control socket (gunicornc) is not used; off, so two instances on one host (web
# and a load test, or several sites) never fight over $HOME/.gunicorn/gunicorn.ctl.
control_socket_disable = True
# Load the application once in the master and fork the workers from it: they start at once and
# share its memory. Nothing connects to the database at import, so no connection is shared.
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def pre_fork(server, worker):
    """Move the loaded application's objects (~350,000: Django, the apps, the URLconf) out of the
    collector's reach before a worker is forked from the master. A worker's full collection then
    walks only what it made itself: 1–3 ms instead of 80–95 ms, a pause that fell on whichever
    request was running (PERFORMANCE.md, lead21). The frozen objects are also never written by
    the collector, so their pages stay shared with the master (the ``gc.freeze`` documentation's
    advice for a process that forks without exec)."""
    gc.freeze()
