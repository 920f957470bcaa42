"""With CSRF protection on, a POST without a valid token is refused and changes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from itsdangerous import TimestampSigner
from sqlalchemy import select

from tests.support import (
    csrf_token_from,
    inventory_token_id,
    iter_routes,
    session_cookie,
    sign_in,
    snapshot,
)

pytestmark = pytest.mark.settings(WTF_CSRF_ENABLED=True)


@pytest.fixture
def signed_in_admin(app: Flask, admin: Any, employee: Any) -> Any:
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 303
    # A second session of the employee, so that "end session" has something to end.
    other = app.test_client()
    assert sign_in(other, "employee").status_code == 303
    return client


def _path_values(employee: Any) -> dict[str, object]:
    from extensions import db
    from models import UserSession

    session_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == employee.id))
    return {
        "user_id": employee.id,
        "session_id": session_id,
        "form_id": "user_edit",
        "token_id": inventory_token_id(),
        "password_id": 1,
        "client_id": 1,
        "login": "employee",
    }


def _form_data() -> dict[str, str]:
    """Data that would be accepted were the token there."""
    return {
        "login": "mallory",
        "password": "correct horse battery",
        "password_confirm": "correct horse battery",
        "current_password": "correct horse battery",
        "new_password": "another long password",
        "new_password_confirm": "another long password",
        "groups": "1",
        "active": "y",
    }


def test_every_post_without_a_token_is_refused_and_changes_nothing(
    app: Flask, signed_in_admin: Any, employee: Any
) -> None:
    from security.messages import message

    # The API takes no cookies and so needs no token: a client key instead (test_api.py).
    posts = [
        r
        for r in iter_routes(app, _path_values(employee))
        if r.method == "POST" and not r.path.startswith("/api/v1/")
    ]
    assert len(posts) >= 5
    before = snapshot()
    for route in posts:
        response = signed_in_admin.post(route.path, data=_form_data())
        assert response.status_code == 400, route.path
        assert message("form.expired") in response.get_data(as_text=True), route.path
    assert snapshot() == before
    # The administrator is still signed in: the refusals did not end the session.
    assert signed_in_admin.get("/admin/").status_code == 200


def test_anonymous_sign_in_without_a_token_is_refused(app: Flask, employee: Any) -> None:
    client = app.test_client()
    before = snapshot()
    response = client.post("/login", data={"login": "employee", "password": "wrong password"})
    assert response.status_code == 400
    assert snapshot() == before
    # The right password without a token does not sign in either.
    response = client.post(
        "/login", data={"login": "employee", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert client.get("/my/").status_code == 302


def test_a_token_from_another_browser_is_refused(app: Flask, signed_in_admin: Any) -> None:
    attacker = app.test_client()
    token = csrf_token_from(attacker.get("/login").get_data(as_text=True))
    before = snapshot()
    response = signed_in_admin.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "login": "mallory",
            "password": "correct horse battery",
            "password_confirm": "correct horse battery",
        },
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_a_garbage_token_shows_the_expired_form_message(app: Flask, employee: Any) -> None:
    from security.messages import message

    client = app.test_client()
    client.get("/login")
    response = client.post(
        "/login",
        data={"csrf_token": "garbage", "login": "employee", "password": "correct horse battery"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message("form.expired") in page
    assert 'href="/login"' in page  # a way back to a fresh form
    assert "<!doctype html>" in page.lower()


def test_an_expired_token_shows_the_expired_form_message(
    app: Flask, employee: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from security.messages import message

    client = app.test_client()
    two_hours_ago = int(time.time()) - 7200
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: two_hours_ago)
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "login": "employee", "password": "correct horse battery"},
    )
    assert response.status_code == 400
    assert message("form.expired") in response.get_data(as_text=True)
    assert client.get("/my/").status_code == 302
    # The fresh form works.
    assert sign_in(client, "employee").status_code == 303
    assert client.get("/my/").status_code == 200


def test_logout_needs_a_token(app: Flask, employee: Any) -> None:
    client = app.test_client()
    assert sign_in(client, "employee").status_code == 303
    assert client.post("/logout").status_code == 400
    assert client.get("/my/").status_code == 200
    token = csrf_token_from(client.get("/my/").get_data(as_text=True))
    cookie = session_cookie(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert session_cookie(client) != cookie
    assert client.get("/my/").status_code == 302
