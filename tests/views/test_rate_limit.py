"""Password guessing is rate-limited per client address and per login, then answered with 429."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.support import events_of


def _attempt(client: Any, login: str, address: str = "192.0.2.1", password: str = "") -> Any:
    return client.post(
        "/login",
        data={"login": login, "password": password or "a wrong guess"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_ten_attempts_per_address_then_429(app: Flask, employee: Any) -> None:
    from security.messages import message

    client = app.test_client()
    for number in range(10):
        assert _attempt(client, f"user{number}").status_code == 200
    response = _attempt(client, "employee", password="correct horse battery")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert message("login.rate_limited") in page
    assert "<!doctype html>" in page.lower()
    assert client.get("/my/").status_code == 302  # the right password did not get through
    [event] = events_of("rate_limited")
    assert (event.ip, event.outcome, event.subject_login) == ("192.0.2.1", "refused", "employee")
    # Another address is not held back by the first one.
    assert _attempt(client, "employee", "198.51.100.7", "correct horse battery").status_code == 303


def test_the_sign_in_page_itself_stays_readable(app: Flask) -> None:
    client = app.test_client()
    for number in range(11):
        _attempt(client, f"user{number}")
    assert client.get("/login", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200


def test_ten_attempts_per_login_from_any_address_then_429(app: Flask, employee: Any) -> None:
    client = app.test_client()
    for number in range(10):
        assert _attempt(client, "employee", f"203.0.113.{number}").status_code == 200
    # Other case, other address: still the same login.
    response = _attempt(client, "EMPLOYEE", "203.0.113.200", "correct horse battery")
    assert response.status_code == 429
    assert len(events_of("rate_limited")) == 1
    assert _attempt(client, "someone-else", "203.0.113.201").status_code == 200


@pytest.mark.settings(LOGIN_RATE_LIMIT="3 per minute")
def test_the_limit_is_a_setting(app: Flask) -> None:
    client = app.test_client()
    statuses = [_attempt(client, f"user{number}").status_code for number in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.settings(RATELIMIT_ENABLED=False)
def test_the_limits_can_be_switched_off(app: Flask, employee: Any) -> None:
    client = app.test_client()
    for _ in range(25):
        assert _attempt(client, "employee").status_code == 200
    assert _attempt(client, "employee", password="correct horse battery").status_code == 303
    assert not events_of("rate_limited")
