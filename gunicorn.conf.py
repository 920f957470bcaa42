"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

Every value can be changed from the environment without editing this file:

GUNICORN_BIND       where to listen (default 127.0.0.1:8000; the reverse proxy connects here)
GUNICORN_WORKERS    worker processes (default 2 x CPU cores + 1, at most 12)
GUNICORN_THREADS    threads per worker (default 1: sync workers, one request each)
GUNICORN_TIMEOUT    seconds before a silent worker is killed and replaced (default 30)
GUNICORN_ACCESS_LOG access log file, "-" for standard output (default), "" for none

Gunicorn's own GUNICORN_CMD_ARGS and command-line flags still override all of these.

Metrics: every start makes a fresh directory for prometheus-client's multiprocess mode
(under TMPDIR, e.g. /dev/shm on Linux) and points PROMETHEUS_MULTIPROC_DIR at it before
any worker imports the console, so that GET /metrics adds up the counts of all workers;
a worker that exits is marked dead there, and the directory goes when gunicorn stops.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from typing import Any


def _int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(
            f"gunicorn.conf.py: {name} must be a whole number, not {value!r}"
        ) from None
    if number < 1:
        raise SystemExit(f"gunicorn.conf.py: {name} must be at least 1")
    return number


# The usual 2n+1: while one worker waits on argon2 or the database, another computes.
# Capped, because every worker holds its own connection pool and ~80 MB of memory
# at rest (plus 64 MiB while it hashes a password with argon2id).
MAX_WORKERS = 12

bind = [part.strip() for part in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")]
workers = _int_from_env("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, MAX_WORKERS))
threads = _int_from_env("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# A request waits at most 10 s for a pooled connection and 5 s to connect, so a healthy
# worker always answers (perhaps 503) well before this; beyond it, the worker is stuck.
timeout = _int_from_env("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
# The reverse proxy keeps connections to gunicorn open between requests.
keepalive = 5

# Each worker imports the app and builds its own engine and pool after the fork:
# database connections and the argon2 state are never shared between processes.
preload_app = False
# Recycle workers now and then, with jitter so that they do not all restart at once.
max_requests = 10_000
max_requests_jitter = 1_000

# Refuse oversized request lines and headers before Flask sees them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Forwarded headers are the application's business (ProxyFix, FLASK_PROXY_FIX_X_*):
# gunicorn itself trusts them only from the local proxy.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log without secrets: the path only (%(U)s, never the query string, which may
# hold a `next` URL or a search), no cookies, no Authorization, no form fields.
# Fields: client (as the proxy reports it), time, method, path, status, bytes,
# microseconds, user agent.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = (
    '%({x-forwarded-for}i)s %(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)s "%(a)s"'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The process title shows in `ps`, which helps when several consoles share a host.
proc_name = "otp-console"

# A fresh directory per start: counts left by an earlier server would be added to this one's.
metrics_directory = tempfile.mkdtemp(prefix="otp-console-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_directory


def child_exit(server: Any, worker: Any) -> None:
    """A worker has exited: its counters stay counted, its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, metrics_directory)


def on_exit(server: Any) -> None:
    shutil.rmtree(metrics_directory, ignore_errors=True)
