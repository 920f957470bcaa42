"""Two server processes, one PostgreSQL database and one Redis: any process serves any request.

Server A and server B are separate gunicorn masters on two ports of 127.0.0.1. Nothing
that must be shared lives inside one of them: spent codes, locks, sessions and the
password rate limit all hold across the pair.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import DEFAULT_PASSWORD, hotp_code, totp_code
from tests.support.servers import Browser, Server, needs_servers, server_environment, signed_in

pytestmark = [pytest.mark.postgres, pytest.mark.redis, needs_servers]

RATE_LIMIT = 5


@pytest.fixture(scope="session")
def servers(start_server: Any, database_url: str, instance_dir: str) -> tuple[Server, Server]:
    env = server_environment(
        database_url, instance_dir, FLASK_LOGIN_RATE_LIMIT=f"{RATE_LIMIT} per minute"
    )
    return start_server("server-a", env), start_server("server-b", env)


@pytest.fixture
def pair(app: Any, servers: tuple[Server, Server]) -> tuple[Server, Server]:
    """Both servers, after the `app` fixture emptied the database and the Redis counters."""
    return servers


def password_step(
    browser: Browser, login: str = "employee", password: str = DEFAULT_PASSWORD
) -> Any:
    return browser.submit("/login", {"login": login, "password": password})


def code_step(browser: Browser, code: str) -> Any:
    return browser.submit("/login/otp", {"code": code})


@pytest.mark.parametrize("kind", ["totp", "hotp"])
def test_a_code_spent_on_one_server_is_refused_on_the_other(
    pair: tuple[Server, Server], employee: Any, two_step_on: Any, connect_device: Any, kind: str
) -> None:
    server_a, server_b = pair
    two_step_on()
    connect_device(employee, kind=kind)
    # The connection spent HOTP counters 0 and 1; TOTP the step of a minute ago.
    code = totp_code() if kind == "totp" else hotp_code(2)

    # The pending sign-in itself crosses servers: password on A, code on B.
    first = server_a.browser()
    assert password_step(first).location == "/login/otp"
    first = first.on(server_b)
    accepted = code_step(first, code)
    assert (accepted.status, accepted.location) == (303, "/my/")
    assert signed_in(first)

    second = server_b.browser()
    assert password_step(second).location == "/login/otp"
    second = second.on(server_a)
    refused = code_step(second, code)
    assert refused.status == 200
    assert "One-time password is incorrect." in refused.text
    assert not signed_in(second)


def test_a_lock_set_through_one_server_holds_on_the_other(
    pair: tuple[Server, Server], employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    server_a, server_b = pair
    two_step_on(max_attempts=3)
    connect_device(employee)

    guesser = server_a.browser()
    password_step(guesser)
    statuses = [code_step(guesser, "000000").status for _ in range(3)]
    assert statuses == [200, 200, 429]

    owner = server_b.browser()
    assert password_step(owner).location == "/login/otp"
    refused = code_step(owner, totp_code())
    assert refused.status == 429
    assert "Too many attempts" in refused.text
    assert not signed_in(owner)


def test_logout_through_one_server_ends_the_session_on_the_other(
    pair: tuple[Server, Server], employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    server_a, server_b = pair
    two_step_on()
    connect_device(employee)
    browser = server_a.browser()
    password_step(browser)
    assert code_step(browser, totp_code()).location == "/my/"
    copy = browser.on(server_b)
    assert signed_in(copy)

    logged_out = browser.submit("/logout", {}, page="/my/")
    assert (logged_out.status, logged_out.location) == (303, "/login")
    assert not signed_in(copy)
    assert not signed_in(Browser(server_a.port, dict(copy.cookies)))


def test_the_password_rate_limit_counts_across_both_servers(
    pair: tuple[Server, Server], employee: Any
) -> None:
    server_a, server_b = pair
    browsers = {"a": server_a.browser(), "b": server_b.browser()}
    # Five wrong passwords spread over both servers use up the limit of five...
    for name in ("a", "b", "a", "b", "a"):
        reply = password_step(browsers[name], password="wrong password!")
        assert reply.status == 200, name
        assert "Incorrect login or password." in reply.text
    # ...so the sixth is refused on either, even with the right password.
    for browser in browsers.values():
        assert password_step(browser).status == 429
    assert not signed_in(browsers["b"])
