"""Password sign-in: one generic error, case-insensitive logins, safe `next`, a renewed session."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from tests.support import events_of, session_cookie, sign_in, strip_csrf

EVIL_NEXT = [
    "//evil.example",
    "/\\evil.example",
    "https://evil.example",
    "http://evil.example/my/",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "\\\\evil.example",
    "///evil.example",
    "https:/evil.example",
    "my/",
]


def _login_page(response: Any) -> str:
    return strip_csrf(response.get_data(as_text=True))


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_unknown_login_wrong_password_and_blocked_user_look_the_same(
    app: Flask, make_user: Any
) -> None:
    from extensions import db
    from models import User
    from security.messages import message

    client = app.test_client()
    unknown = sign_in(client, "carol", "a password of some length")
    user = make_user("carol")
    wrong = sign_in(client, "carol", "a password of some length")
    db.session.get(User, user.id).active = False
    db.session.commit()
    blocked = sign_in(client, "carol")

    assert unknown.status_code == wrong.status_code == blocked.status_code == 200
    assert message("login.invalid") in unknown.get_data(as_text=True)
    assert _login_page(unknown) == _login_page(wrong) == _login_page(blocked)
    assert client.get("/my/").status_code == 302
    reasons = [event.details for event in events_of("sign_in_failed")]
    assert reasons == ["reason=unknown login", "reason=wrong password", "reason=blocked"]


def test_login_ignores_case(employee: Any, auth: Any, client: Any) -> None:
    response = auth.login("EmPlOyEe")
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/"
    assert client.get("/my/").status_code == 200


def test_a_wrong_password_is_refused(employee: Any, auth: Any, client: Any) -> None:
    from security.messages import message

    response = auth.login("employee", "Correct horse battery")
    assert response.status_code == 200
    assert message("login.invalid") in response.get_data(as_text=True)
    assert client.get("/my/").status_code == 302


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_next_never_leaves_the_site(employee: Any, auth: Any, client: Any, target: str) -> None:
    page = client.get("/login?next=" + quote(target, safe="")).get_data(as_text=True)
    assert "evil.example" not in page
    response = auth.login("employee", next=target)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == "/my/"
    # Once signed in, /login?next=… sends the user on: still only on the site.
    again = client.get("/login?next=" + quote(target, safe=""))
    assert again.status_code == 302
    assert again.headers["Location"] == "/my/"


def test_a_local_next_is_followed(admin: Any, client: Any, auth: Any) -> None:
    first = client.get("/admin/users?q=ad&group=1")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    page = client.get(login_url).get_data(as_text=True)
    target = re.search(r'name="next" type="hidden" value="([^"]*)"', page)
    assert target, "the login form carries next"
    assert target.group(1).replace("&amp;", "&") == "/admin/users?q=ad&group=1"
    response = auth.login("admin", next="/admin/users?q=ad&group=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users?q=ad&group=1"


def test_without_next_each_user_lands_on_their_home(admin: Any, employee: Any, app: Flask) -> None:
    for login, home in (("admin", "/admin/"), ("employee", "/my/")):
        response = sign_in(app.test_client(), login)
        assert response.status_code == 303
        assert urlsplit(response.headers["Location"]).path == home


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_the_session_is_renewed_at_sign_in(app: Flask, employee: Any) -> None:
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        csrf_before = session.get("csrf_token")
    cookie_before = session_cookie(client)
    assert sign_in(client, "employee").status_code == 303
    assert session_cookie(client) != cookie_before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != csrf_before
        first_sid = session["sid"]
    # A second sign-in gets a different server-side session again.
    other = app.test_client()
    assert sign_in(other, "employee").status_code == 303
    with other.session_transaction() as session:
        assert session["sid"] != first_sid


def test_a_failed_sign_in_is_recorded_without_the_password(
    employee: Any, auth: Any, client: Any
) -> None:
    from extensions import db
    from models import Event

    secret = "Tr0ub4dor&3-unique-guess"
    auth.login("employee", secret)
    auth.login("nobody-here", secret)
    [wrong, unknown] = events_of("sign_in_failed")
    assert (wrong.subject_id, wrong.subject_login, wrong.outcome) == (
        employee.id,
        "employee",
        "failure",
    )
    assert unknown.subject_id is None
    assert unknown.subject_login == "nobody-here"
    assert wrong.ip == "127.0.0.1"
    rows = db.session.execute(select(Event.__table__)).all()
    assert rows
    assert not any(secret in str(value) for row in rows for value in row)


def test_a_successful_sign_in_is_recorded(employee: Any, auth: Any) -> None:
    auth.login("EMPLOYEE")
    [event] = events_of("sign_in")
    assert event.subject_id == employee.id
    assert event.actor_id == employee.id
    assert event.created_at.tzinfo is not None


def test_logout_is_recorded_and_says_so(employee: Any, employee_client: Any) -> None:
    from security.messages import message

    response = employee_client.post("/logout", follow_redirects=True)
    assert message("login.signed_out") in response.get_data(as_text=True)
    [event] = events_of("sign_out")
    assert event.subject_id == employee.id


def test_logout_is_a_post(employee_client: Any) -> None:
    assert employee_client.get("/logout").status_code == 405
    assert employee_client.get("/my/").status_code == 200
