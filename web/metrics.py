"""The console's metrics for Prometheus (`GET /metrics`).

Counters move when the domain's announcements are committed (security.observers): the
password step's outcomes, the second step's, the locks, and the events the syslog
forwarder had to drop. Request durations are timed per endpoint group. The users by
two-step state and the notices waiting to be e-mailed are read from the database when
scraped, cached for a minute per process.

Under gunicorn, `gunicorn.conf.py` points PROMETHEUS_MULTIPROC_DIR at a fresh directory
before any worker starts: each worker writes its counts to files there (prometheus-client's
multiprocess mode) and the worker that answers a scrape adds them all up, so the counts
are the whole server's. Without it (the development server, tests) they are the process's.

No label ever holds a login, an address or anything else personal: every label value
comes from a short fixed list.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from flask import Flask, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from extensions import db
from security import events, mail_outbox, observers, status_read_model
from security.otp_settings import load_settings
from security.two_step import Status

# Endpoint groups of the request-duration histogram: a fixed set, never a path.
LOGIN: Final = "login"
SECOND_STEP: Final = "second_step"
MYPAGE: Final = "mypage"
ADMIN: Final = "admin"
API: Final = "api"
OTHER: Final = "other"
ENDPOINT_GROUPS: Final = (LOGIN, SECOND_STEP, MYPAGE, ADMIN, API, OTHER)
_SECOND_STEP_ENDPOINTS: Final = frozenset({"auth.login_otp", "auth.login_connect"})
_BLUEPRINT_GROUPS: Final = {"auth": LOGIN, "mypage": MYPAGE, "admin": ADMIN, "api": API}

# Why the syslog forwarder dropped an event.
DROP_REASONS: Final = ("queue_full", "unreachable", "error")

# How long the numbers read from the database are kept.
DATABASE_CACHE_SECONDS: Final = 60.0
LOOPBACK: Final = frozenset({"127.0.0.1", "::1"})
_CACHE_KEY: Final = "console_metrics_cache"
_RATE_LIMITED_LOGIN: Final = "path=/login"

_registry = CollectorRegistry(auto_describe=True)

SIGN_INS = Counter(
    "console_sign_ins",
    "Password step attempts by outcome (ok, wrong, blocked, rate_limited).",
    ["outcome"],
    registry=_registry,
)
SECOND_STEPS = Counter(
    "console_second_step",
    "Second step attempts by outcome (ok, wrong, locked, replayed, recovery_code, "
    "temporary_code, malformed).",
    ["outcome"],
    registry=_registry,
)
LOCKS = Counter(
    "console_locks", "Second steps locked after too many wrong codes.", registry=_registry
)
SYSLOG_DROPPED = Counter(
    "console_syslog_dropped",
    "Security events not sent to syslog (queue_full, unreachable, error).",
    ["reason"],
    registry=_registry,
)
REQUEST_SECONDS = Histogram(
    "console_request_duration_seconds",
    "Time to answer a request, by endpoint group.",
    ["group"],
    registry=_registry,
)

# Every label value shows from the start, at 0: a rate over a missing series is no rate.
for _outcome in observers.SIGN_IN_OUTCOMES:
    SIGN_INS.labels(_outcome)
for _outcome in observers.SECOND_STEP_OUTCOMES:
    SECOND_STEPS.labels(_outcome)
for _reason in DROP_REASONS:
    SYSLOG_DROPPED.labels(_reason)
for _group in ENDPOINT_GROUPS:
    REQUEST_SECONDS.labels(_group)


# --- counting -------------------------------------------------------------------------


def observe(announcement: observers.Announcement) -> None:
    """Count what a committed transaction announced."""
    if isinstance(announcement, observers.StepOutcome):
        if announcement.step == observers.SIGN_IN_STEP:
            if announcement.outcome in observers.SIGN_IN_OUTCOMES:
                SIGN_INS.labels(announcement.outcome).inc()
        elif announcement.outcome in observers.SECOND_STEP_OUTCOMES:
            SECOND_STEPS.labels(announcement.outcome).inc()
        return
    if announcement.type == events.OTP_LOCKED:
        LOCKS.inc()
    elif announcement.type == events.RATE_LIMITED and announcement.details == _RATE_LIMITED_LOGIN:
        SIGN_INS.labels(observers.SIGN_IN_RATE_LIMITED).inc()


def count_syslog_dropped(reason: str) -> None:
    """Count an event the syslog forwarder could not send."""
    SYSLOG_DROPPED.labels(reason if reason in DROP_REASONS else "error").inc()


def endpoint_group(endpoint: str | None) -> str:
    """The duration histogram's label for an endpoint: one of ENDPOINT_GROUPS."""
    if endpoint is None:
        return OTHER
    if endpoint in _SECOND_STEP_ENDPOINTS:
        return SECOND_STEP
    return _BLUEPRINT_GROUPS.get(endpoint.split(".", 1)[0], OTHER)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _time_request(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        REQUEST_SECONDS.labels(endpoint_group(request.endpoint)).observe(
            time.perf_counter() - started
        )
    return response


def init_app(app: Flask) -> None:
    """Time every request and count the domain's announcements."""
    # First of all, so that a request refused early (a rate limit) is timed as well.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_time_request)
    observers.subscribe("metrics", observe)


# --- who may read them ----------------------------------------------------------------


def refusal_status() -> int | None:
    """None when this request may read the metrics; else 401 (token) or 403 (address).

    With FLASK_METRICS_TOKEN set, only `Authorization: Bearer <token>` reads them. Without
    it, only a client on this computer (127.0.0.1 or ::1, as the proxy settings make the
    address out) — and never one that came through a proxy the console was not told about.
    """
    token = str(current_app.config["METRICS_TOKEN"])
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8"), token.encode("utf-8")
        ):
            return None
        return 401
    if request.remote_addr not in LOOPBACK:
        return 403
    untrusted_forwarding = not current_app.config["PROXY_FIX_X_FOR"] and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    )
    return 403 if untrusted_forwarding else None


# What a scraper without the token is told to send (RFC 6750).
TOKEN_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="metrics"'}


# --- what they say --------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseNumbers:
    users_by_state: dict[str, int]
    administrators_without_two_step: int
    notices_pending: int
    notices_failed: int


def database_numbers(now: datetime) -> DatabaseNumbers:
    """Read the users by two-step state (the overview's counts) and the mail queue."""
    counts = status_read_model.status_counts(load_settings(), now)
    queue = mail_outbox.queue_counts()
    return DatabaseNumbers(
        users_by_state={status.value: counts[status.value] for status in Status},
        administrators_without_two_step=counts["admins_without"],
        notices_pending=queue.pending,
        notices_failed=queue.failed,
    )


def _cached_numbers(now: datetime) -> DatabaseNumbers:
    cached: tuple[float, DatabaseNumbers] | None = current_app.extensions.get(_CACHE_KEY)
    moment = time.monotonic()
    if cached is None or moment - cached[0] >= DATABASE_CACHE_SECONDS:
        cached = (moment, database_numbers(now))
        current_app.extensions[_CACHE_KEY] = cached
    return cached[1]


class _DatabaseCollector(Collector):
    def __init__(self, numbers: DatabaseNumbers) -> None:
        self.numbers = numbers

    def collect(self) -> Iterator[Metric]:
        users = GaugeMetricFamily(
            "console_users",
            "Users by two-step state (as the overview counts them).",
            labels=["state"],
        )
        for state, count in self.numbers.users_by_state.items():
            users.add_metric([state], count)
        yield users
        yield GaugeMetricFamily(
            "console_administrators_without_two_step",
            "Administrators without an active two-step device.",
            value=self.numbers.administrators_without_two_step,
        )
        yield GaugeMetricFamily(
            "console_notices_pending",
            "Notice e-mails waiting to be sent.",
            value=self.numbers.notices_pending,
        )
        yield GaugeMetricFamily(
            "console_notices_failed",
            "Notice e-mails given up.",
            value=self.numbers.notices_failed,
        )


class _ProcessCollector(Collector):
    """This process's own counters, when no other process shares them."""

    def collect(self) -> Iterator[Metric]:
        return iter(_registry.collect())


def multiprocess_directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(now: datetime) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_directory()
    if directory:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessCollector())
    try:
        numbers = _cached_numbers(now)
    except SQLAlchemyError:
        # The database is away: the counters still answer, its numbers do not (a scrape
        # that fails would hide what the processes counted meanwhile).
        db.session.rollback()
    else:
        registry.register(_DatabaseCollector(numbers))
    # The text format every Prometheus version reads.
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4
