"""Losing the database: a plain 503 page, never a 500 or a traceback, and recovery by itself.

Two ways to lose it. PostgreSQL ends every connection of the server (pg_terminate_backend,
as on a restart or a fail-over): the pool notices on the next check-out and reconnects.
And a real outage: the server reaches PostgreSQL through a TCP relay that the test cuts
(connections dropped, port refusing) and then restores.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from security.messages import message
from tests.support import DEFAULT_PASSWORD, csrf_token_from
from tests.support.servers import (
    Browser,
    Server,
    assert_plain_unavailable,
    needs_servers,
    never_a_server_error,
    server_environment,
    signed_in,
)


def on_postgres(test: Any) -> Any:
    """Mark a test that runs real servers on PostgreSQL and Redis."""
    return pytest.mark.postgres(pytest.mark.redis(needs_servers(test)))


def terminate_backends(database_url: str) -> int:
    """End every other connection to the test database, from a connection of our own."""
    engine = create_engine(database_url, poolclass=None)
    try:
        with engine.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(ended)


def sign_in(browser: Browser) -> None:
    reply = browser.submit("/login", {"login": "employee", "password": DEFAULT_PASSWORD})
    assert (reply.status, reply.location) == (303, "/my/"), reply.text[:500]


def test_a_failing_user_loader_gives_the_plain_503_page(
    app: Any, employee: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On any database: the page that reports the outage does not ask the database again."""
    from sqlalchemy.exc import OperationalError

    from security import sessions

    client = app.test_client()
    signed = client.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    assert signed.status_code == 303
    calls = []

    def unreachable(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(sessions, "resolve_session", unreachable)
    response = client.get("/my/")
    assert response.status_code == 503
    assert message("error.title.503") in response.text
    assert message("error.explanation.503") in response.text
    assert len(calls) == 1
    monkeypatch.undo()
    assert client.get("/my/").status_code == 200


@pytest.fixture(scope="module")
def direct_server(start_server: Any, database_url: str, instance_dir: str) -> Server:
    return start_server("direct", server_environment(database_url, instance_dir))


@on_postgres
def test_terminated_connections_are_replaced_without_an_error(
    app: Any, employee: Any, direct_server: Server, database_url: str
) -> None:
    browser = direct_server.browser()
    sign_in(browser)
    assert signed_in(browser)

    assert terminate_backends(database_url) >= 1
    # The next requests either find a fresh connection (pre-ping) or answer 503: never 500.
    replies = [never_a_server_error(browser.get(path)) for path in ("/my/", "/healthz", "/my/")]
    assert replies[-1].status == 200
    assert signed_in(browser)

    # And again, this time under a sign-in that writes (events, session record).
    terminate_backends(database_url)
    other = direct_server.browser()
    never_a_server_error(
        other.submit("/login", {"login": "employee", "password": DEFAULT_PASSWORD})
    )
    sign_in(direct_server.browser())
    assert "Traceback" not in direct_server.log()


@on_postgres
def test_an_outage_answers_503_and_the_console_recovers_when_the_database_is_back(
    app: Any,
    employee: Any,
    start_server: Any,
    relay: Any,
    database_url: str,
    instance_dir: str,
) -> None:
    url = make_url(database_url)
    link = relay((url.host or "127.0.0.1", url.port or 5432))
    via_relay = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
    server = start_server("relayed", server_environment(via_relay, instance_dir))
    browser = server.browser()
    sign_in(browser)
    assert server.browser().get("/healthz").status == 200

    link.cut()
    assert server.browser().get("/healthz").status == 503
    # A signed-in page fails inside Flask-Login's user loader; the page is still plain.
    assert_plain_unavailable(browser.get("/my/"))
    assert_plain_unavailable(browser.get("/admin/users"))
    stranger = server.browser()
    form = stranger.get("/login")
    assert form.status == 200  # the sign-in form itself needs no database
    attempt = stranger.request(
        "POST",
        "/login",
        {
            "login": "employee",
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_token_from(form.text),
        },
    )
    assert_plain_unavailable(attempt)

    link.start()
    deadline = time.monotonic() + 15
    while server.browser().get("/healthz").status != 200:
        assert time.monotonic() < deadline, "the console did not recover"
        time.sleep(0.2)
    # The session survived in the database: the same cookie works again.
    assert signed_in(browser)
    sign_in(server.browser())
    assert "Traceback" not in server.log()
