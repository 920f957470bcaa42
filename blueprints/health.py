"""Liveness (/healthz) and readiness (/readyz) checks for load balancers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from security import key_check

bp = Blueprint("health", __name__)

# A Redis that does not answer must not hold the probe longer than the balancer waits.
REDIS_TIMEOUT_SECONDS = 2


@bp.route("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "database unavailable", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to serve sign-ins: the database, Redis (when configured) and the keys answer."""
    try:
        db.session.execute(text("SELECT 1"))
        keys = key_check.check_keys(sample=key_check.START_SAMPLE, count_devices=False)
    except SQLAlchemyError:
        db.session.rollback()
        return _unavailable("database_unavailable")
    if not _redis_answers():
        return _unavailable("redis_unavailable")
    if keys.keys_are_wrong:
        return _unavailable("keys_open_no_secrets")
    return jsonify(status="ready"), 200


def _unavailable(reason: str) -> tuple[Response, int]:
    return jsonify(status="unavailable", reason=reason), 503


def _redis_answers() -> bool:
    """Ping the rate limits' Redis, when they are kept in one; True without one."""
    uri = str(current_app.config["RATELIMIT_STORAGE_URI"])
    if not uri.startswith(("redis", "rediss")):
        return True
    storage: Any = current_app.extensions.get("readyz_redis")
    if storage is None:
        from limits.storage import storage_from_string

        storage = storage_from_string(
            uri,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        current_app.extensions["readyz_redis"] = storage
    return bool(storage.check())
