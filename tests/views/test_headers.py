"""Security headers, cookie flags, plain error pages and the health check."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from security.messages import message
from tests.support import SESSION_COOKIE, sign_in


def _directives(response: Any) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _session_set_cookie(response: Any) -> str:
    [header] = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith(SESSION_COOKIE + "=")
    ]
    return header


@pytest.mark.parametrize("path", ["/login", "/healthz", "/no-such-page", "/static/console.css"])
def test_security_headers_on_every_kind_of_response(client: Any, path: str) -> None:
    with client.get(path) as response:  # closes the static file too
        directives = _directives(response)
        headers = response.headers
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_signed_in_pages_are_not_cached(employee_client: Any) -> None:
    assert "no-store" in employee_client.get("/my/").headers["Cache-Control"]


def test_pages_have_no_inline_script(admin_client: Any, employee: Any) -> None:
    for path in ("/admin/", "/admin/users", f"/admin/users/{employee.id}", "/admin/events"):
        page = admin_client.get(path).get_data(as_text=True)
        assert "<script>" not in page and " onclick=" not in page, path


@pytest.mark.settings(SESSION_COOKIE_SECURE=True)
def test_the_session_cookie_is_secure_httponly_and_lax(app: Flask, employee: Any) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        data={"login": "employee", "password": "correct horse battery", "remember": "y"},
        base_url="https://localhost",
    )
    assert response.status_code == 303
    flags = [part.strip().lower() for part in _session_set_cookie(response).split(";")]
    assert "secure" in flags
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_secure_is_the_default() -> None:
    import config

    assert config.DEFAULTS["SESSION_COOKIE_SECURE"] is True
    assert config.DEFAULTS["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config.DEFAULTS["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.settings(SESSION_COOKIE_SECURE=False)
def test_plain_http_development_drops_only_secure(app: Flask, employee: Any) -> None:
    response = sign_in(app.test_client(), "employee")
    flags = [part.strip().lower() for part in _session_set_cookie(response).split(";")]
    assert "secure" not in flags
    assert "httponly" in flags and "samesite=lax" in flags


def test_404_is_a_plain_page(client: Any) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert message("error.title.404") in page
    assert message("error.explanation.404") in page


def test_405_is_a_plain_page(employee_client: Any) -> None:
    response = employee_client.get("/logout")
    assert response.status_code == 405
    page = response.get_data(as_text=True)
    assert message("error.title.405") in page
    assert message("error.explanation.405") in page


@pytest.mark.settings(PROPAGATE_EXCEPTIONS=False)
def test_500_is_a_plain_page_without_traceback(app: Flask, employee: Any) -> None:
    from extensions import db
    from models import User

    def explode() -> str:
        user = db.session.get(User, employee.id)
        user.name = "changed by a request that then failed"
        db.session.flush()
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", "explode", explode)
    client = app.test_client()
    assert sign_in(client, "employee").status_code == 303
    response = client.get("/explode")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert message("error.title.500") in page
    assert message("error.explanation.500") in page
    assert "secret internal detail" not in page
    assert "<!doctype html>" in page.lower()
    db.session.expire_all()
    assert db.session.get(User, employee.id).name == ""


def test_debug_is_off(app: Flask) -> None:
    assert app.debug is False


def test_healthz(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"


def test_keep_me_signed_in_lasts_the_absolute_lifetime_only(app: Flask, employee: Any) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import parsedate_to_datetime

    browser_session = sign_in(app.test_client(), "employee")
    assert "expires=" not in _session_set_cookie(browser_session).lower()
    kept = sign_in(app.test_client(), "employee", remember="y")
    header = _session_set_cookie(kept)
    [expires] = [
        part.split("=", 1)[1]
        for part in header.split(";")
        if part.strip().lower().startswith("expires=")
    ]
    lifetime = parsedate_to_datetime(expires) - datetime.now(UTC)
    assert timedelta(hours=11) < lifetime <= timedelta(hours=12)
    # Flask-Login's own remember cookie (365 days by default) is never sent.
    for response in (browser_session, kept):
        assert not any(
            value.startswith("remember_token") for value in response.headers.getlist("Set-Cookie")
        )
