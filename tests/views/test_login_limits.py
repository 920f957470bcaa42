"""The per-login password limit slows strangers without locking the owner out (issue 10,
items 1 and 7): only failures count, a browser known for the login is spared, and the
limit reads the login from exactly the value the view checks, whatever the body."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict

from tests.support import DEFAULT_PASSWORD, snapshot
from web.login_limits import DEVICE_COOKIE

OWNER_ADDRESS = "192.0.2.10"
WRONG = "a wrong guess"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _attempt(client: Any, login: str, address: str, password: str = WRONG, **options: Any) -> Any:
    return client.post(
        "/login",
        data={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
        **options,
    )


def _stranger_exhausts_the_login(app: Flask, login: str) -> None:
    """Ten wrong passwords from ten addresses: the login's limit is used up."""
    stranger = app.test_client()
    statuses = [_attempt(stranger, login, f"203.0.113.{n}").status_code for n in range(10)]
    assert statuses == [200] * 10


def _known_browser(app: Flask, login: str) -> Any:
    """A browser that has signed in as `login` and signed out again."""
    browser = app.test_client()
    assert _attempt(browser, login, OWNER_ADDRESS, DEFAULT_PASSWORD).status_code == 303
    assert browser.get_cookie(DEVICE_COOKIE, path="/login") is not None
    assert browser.post("/logout").status_code == 303
    return browser


# --- item 1: strangers cannot keep the owner out ------------------------------------------


def test_strangers_exhausting_the_login_limit_do_not_stop_the_owners_known_browser(
    app: Flask, employee: Any
) -> None:
    owner = _known_browser(app, "employee")
    _stranger_exhausts_the_login(app, "employee")

    # The stranger is still held back, even with the right password from a new address.
    stranger = app.test_client()
    assert _attempt(stranger, "employee", "203.0.113.50").status_code == 429
    assert _attempt(stranger, "employee", "203.0.113.51", DEFAULT_PASSWORD).status_code == 429
    assert stranger.get("/my/").status_code == 302

    # The owner's browser: a typo is answered as a typo, the password signs in, from anywhere.
    assert _attempt(owner, "employee", OWNER_ADDRESS, "a typo of the owner").status_code == 200
    assert _attempt(owner, "EMPLOYEE", "198.51.100.3", DEFAULT_PASSWORD).status_code == 303
    assert owner.get("/my/").status_code == 200

    # The limit per address still holds back the known browser (a stolen cookie): two
    # attempts from OWNER_ADDRESS so far, eight more, then 429.
    assert owner.post("/logout").status_code == 303
    statuses = [_attempt(owner, "employee", OWNER_ADDRESS).status_code for _ in range(9)]
    assert statuses == [200] * 8 + [429]


@pytest.mark.settings(LOGIN_RATE_LIMIT="3 per minute")
def test_a_right_password_does_not_count_toward_the_login_limit(app: Flask, employee: Any) -> None:
    # Five sign-ins from new browsers (no device cookie) at five addresses.
    for number in range(5):
        response = _attempt(app.test_client(), "employee", f"198.51.100.{number}", DEFAULT_PASSWORD)
        assert response.status_code == 303
    stranger = app.test_client()
    statuses = [_attempt(stranger, "employee", f"203.0.113.{n}").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_device_cookie_is_set_when_the_sign_in_completes_and_is_guarded(
    app: Flask, employee: Any, make_user: Any, two_step_on: Any, connect_device: Any
) -> None:
    response = _attempt(app.test_client(), "employee", OWNER_ADDRESS, DEFAULT_PASSWORD)
    assert response.status_code == 303
    [cookie] = [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith(DEVICE_COOKIE + "=")
    ]
    assert "employee" not in cookie.split(";")[0]  # signed, not a bare login to copy
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/login", "Max-Age="):
        assert flag in cookie
    assert "Secure" not in cookie  # the tests run with SESSION_COOKIE_SECURE off
    # A wrong password sets nothing.
    failed = _attempt(app.test_client(), "employee", OWNER_ADDRESS)
    assert DEVICE_COOKIE not in " ".join(failed.headers.getlist("Set-Cookie"))
    # Nor does a password whose second step is still to come.
    two_step_on()
    connect_device(make_user("carol"))
    browser = app.test_client()
    response = _attempt(browser, "carol", OWNER_ADDRESS, DEFAULT_PASSWORD)
    assert response.headers["Location"] == "/login/otp"
    assert browser.get_cookie(DEVICE_COOKIE, path="/login") is None


def test_a_browser_that_finished_the_second_step_gets_past_a_strangers_flood(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    from tests.support import totp_code

    two_step_on()
    connect_device(employee)
    owner = app.test_client()
    assert _attempt(owner, "employee", OWNER_ADDRESS, DEFAULT_PASSWORD).status_code == 303
    done = owner.post("/login/otp", data={"code": totp_code()})
    assert done.status_code == 303
    assert owner.get_cookie(DEVICE_COOKIE, path="/login") is not None
    assert owner.post("/logout").status_code == 303
    _stranger_exhausts_the_login(app, "employee")
    response = _attempt(owner, "employee", OWNER_ADDRESS, DEFAULT_PASSWORD)
    assert response.headers["Location"] == "/login/otp"


@pytest.mark.settings(SESSION_COOKIE_SECURE=True)
def test_the_device_cookie_is_secure_unless_told_otherwise(app: Flask, employee: Any) -> None:
    response = _attempt(app.test_client(), "employee", OWNER_ADDRESS, DEFAULT_PASSWORD)
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(DEVICE_COOKIE)]
    assert "Secure" in cookie


def test_a_browser_known_for_another_login_or_a_forged_cookie_is_held_back(
    app: Flask, make_user: Any
) -> None:
    make_user("employee")
    make_user("carol")
    carols_browser = _known_browser(app, "carol")
    _stranger_exhausts_the_login(app, "employee")
    response = _attempt(carols_browser, "employee", OWNER_ADDRESS, DEFAULT_PASSWORD)
    assert response.status_code == 429

    forged = app.test_client()
    value = carols_browser.get_cookie(DEVICE_COOKIE, path="/login").value
    forged.set_cookie(DEVICE_COOKIE, value.replace("carol", "employee"), path="/login")
    assert _attempt(forged, "employee", OWNER_ADDRESS, DEFAULT_PASSWORD).status_code == 429


def test_a_remembered_computer_is_a_known_browser(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    from extensions import db
    from models import utcnow
    from security import remembered_computers

    two_step_on(allow_remember=True)
    connect_device(employee)
    token, _ = remembered_computers.remember_computer(
        employee, now=utcnow(), ip=OWNER_ADDRESS, user_agent="test", days=30
    )
    db.session.commit()
    _stranger_exhausts_the_login(app, "employee")

    remembered = app.test_client()
    remembered.set_cookie("otp_remembered", token)
    # Asking whether the browser is known does not count as using the computer: a wrong
    # password from it leaves its last use as it was.
    [before] = remembered_computers.list_remembered(employee.id, now=utcnow())
    last_used = before.last_used_at
    assert _attempt(remembered, "employee", OWNER_ADDRESS, "a typo").status_code == 200
    db.session.expire_all()
    [after] = remembered_computers.list_remembered(employee.id, now=utcnow())
    assert after.last_used_at == last_used
    response = _attempt(remembered, "employee", OWNER_ADDRESS, DEFAULT_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/"  # no code asked on a remembered computer
    # The token of another user's computer does not help.
    other = app.test_client()
    other.set_cookie("otp_remembered", "not-a-token")
    assert _attempt(other, "employee", OWNER_ADDRESS, DEFAULT_PASSWORD).status_code == 429


# --- item 7: form bodies only; the limiter reads the value the view uses ------------------


NOT_FORMS = [
    pytest.param({"json": {"login": "employee", "password": DEFAULT_PASSWORD}}, id="json"),
    pytest.param(
        {"data": "login=employee&password=x", "content_type": "text/plain"}, id="text-plain"
    ),
    pytest.param({"data": b"<login>employee</login>", "content_type": "application/xml"}, id="xml"),
    pytest.param({"data": b"login=employee"}, id="no-content-type"),
]


@pytest.mark.parametrize("body", NOT_FORMS)
def test_the_sign_in_takes_form_bodies_only(app: Flask, employee: Any, body: Any) -> None:
    from security.messages import message

    client = app.test_client()
    before = snapshot()
    response = client.post("/login", **body)
    assert response.status_code == 415
    page = response.get_data(as_text=True)
    assert "<!doctype html>" in page.lower()
    assert message("request.form_only") in page
    assert snapshot() == before
    assert client.get("/my/").status_code == 302


def test_a_json_body_does_not_bypass_the_login_limit(app: Flask, employee: Any) -> None:
    _stranger_exhausts_the_login(app, "employee")
    response = app.test_client().post(
        "/login",
        json={"login": "employee", "password": DEFAULT_PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.60"},
    )
    assert response.status_code == 415


def test_other_form_endpoints_take_form_bodies_only(employee_client: Any) -> None:
    before = snapshot()
    response = employee_client.post(
        "/my/security/password",
        json={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a brand new password",
            "new_password_confirm": "a brand new password",
        },
    )
    assert response.status_code == 415
    assert snapshot() == before
    # A button without fields sends no body at all: still a form.
    assert employee_client.post("/logout").status_code == 303


def test_the_limit_reads_the_login_exactly_where_the_form_does(app: Flask, make_user: Any) -> None:
    from security.messages import message

    make_user("employee")
    make_user("carol")
    # Multipart bodies are forms (uploads will come): a plain login in one signs in.
    response = _attempt(
        app.test_client(), "carol", OWNER_ADDRESS, DEFAULT_PASSWORD, content_type=MULTIPART
    )
    assert response.status_code == 303

    _stranger_exhausts_the_login(app, "employee")
    client = app.test_client()
    for number, content_type in enumerate((URLENCODED, MULTIPART)):
        # Sent twice: the first value is both the limiter's key and the login checked.
        first_is_limited = MultiDict(
            [("login", "employee"), ("login", "decoy"), ("password", DEFAULT_PASSWORD)]
        )
        response = client.post(
            "/login",
            data=first_is_limited,
            content_type=content_type,
            environ_base={"REMOTE_ADDR": f"203.0.113.{80 + number}"},
        )
        assert response.status_code == 429
        first_is_checked = MultiDict(
            [("login", "decoy"), ("login", "employee"), ("password", DEFAULT_PASSWORD)]
        )
        response = client.post(
            "/login",
            data=first_is_checked,
            content_type=content_type,
            environ_base={"REMOTE_ADDR": f"203.0.113.{90 + number}"},
        )
        assert response.status_code == 200
        assert message("login.invalid") in response.get_data(as_text=True)

    # A file part is not a login (by its name or its content): the limiter never sees it,
    # so the view must not check it either.
    for number, decoy in enumerate(([], [("login", "decoy")])):
        as_file = FileStorage(BytesIO(b"employee"), filename="employee", name="login")
        data = MultiDict([*decoy, ("login", as_file), ("password", DEFAULT_PASSWORD)])
        response = client.post(
            "/login",
            data=data,
            content_type=MULTIPART,
            environ_base={"REMOTE_ADDR": f"203.0.113.{100 + number}"},
        )
        assert response.status_code in (200, 400)
    assert client.get("/my/").status_code == 302
