"""One-time means once: of 20 simultaneous submissions of one code, exactly one signs in.

The 20 submissions come from 20 pending sign-ins in 20 separate processes, each
with its own application and database connection, released together by a barrier.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from tests.support import DEFAULT_PASSWORD, hotp_code, totp_code

SUBMISSIONS = 20


def _submit_code(settings: dict[str, Any], code: str, barrier: Any, results: Any) -> None:
    from app import create_app

    app = create_app(dict(settings))
    client = app.test_client()
    client.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    try:
        barrier.wait(timeout=60)
    except Exception:  # noqa: BLE001 - a broken barrier still reports a result
        results.put(("barrier", ""))
        return
    response = client.post("/login/otp", data={"code": code})
    results.put((response.status_code, response.headers.get("Location", "")))


def _race(app: Any, code: str) -> list[tuple[Any, str]]:
    settings = {
        key: app.config[key]
        for key in (
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "PASSWORD_ARGON2_TIME_COST",
            "PASSWORD_ARGON2_MEMORY_KIB",
            "PASSWORD_ARGON2_PARALLELISM",
        )
    }
    settings.update(
        TESTING=True,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
        SESSION_COOKIE_SECURE=False,
        INSTANCE_PATH=app.instance_path,
    )
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(SUBMISSIONS)
    results = context.Queue()
    workers = [
        context.Process(target=_submit_code, args=(settings, code, barrier, results))
        for _ in range(SUBMISSIONS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


@pytest.fixture
def raced(app: Any, employee: Any, two_step_on: Any) -> Any:
    # Enough attempts that the 19 losers do not lock the account mid-race.
    two_step_on(max_attempts=100)
    from extensions import db

    db.session.commit()
    db.engine.dispose()  # the children must not share the parent's connections
    return lambda code: _race(app, code)


def _signed_in(outcomes: list[tuple[Any, str]]) -> int:
    assert all(status != "barrier" for status, _ in outcomes), outcomes
    assert all(status in (200, 303) for status, _ in outcomes), outcomes
    return sum(1 for status, location in outcomes if status == 303 and location == "/my/")


def test_one_totp_code_signs_in_once(raced: Any, connect_device: Any, employee: Any) -> None:
    connect_device(employee)
    assert _signed_in(raced(totp_code())) == 1


def test_one_hotp_code_signs_in_once(raced: Any, connect_device: Any, employee: Any) -> None:
    connect_device(employee, kind="hotp")
    assert _signed_in(raced(hotp_code(2))) == 1


def test_one_recovery_code_signs_in_once(raced: Any, connect_device: Any, employee: Any) -> None:
    codes = connect_device(employee)
    assert _signed_in(raced(codes[0])) == 1
