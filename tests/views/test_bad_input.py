"""Bad input on every form: empty, overlong, control characters, non-UTF-8.

Never a 500; the form comes back with a message; nothing changes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from markupsafe import escape

from security.messages import message
from tests.support import DEFAULT_PASSWORD, snapshot, without_events

OVERLONG = "x" * 10_000
CONTROL = ["ad\x00min", "\x1b[31mred", "abc\u202etxt", "two\nlines", "tab\there"]


def _case_id(value: object) -> str:
    """Readable test ids: which field, and what kind of bad value."""
    if isinstance(value, dict):
        parts = []
        for field, text in value.items():
            if text == "":
                kind = "empty"
            elif len(text) > 1000:
                kind = "overlong"
            elif any(
                ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char == "\u202e" for char in text
            ):
                kind = "control-" + "".join(f"{ord(c):x}" for c in text if not c.isalnum())[:8]
            else:
                kind = text[:16]
            parts.append(f"{field}={kind}")
        return ",".join(parts)
    if isinstance(value, list):
        return "|".join(str(item) for item in value)
    if value is None:
        return "-"
    return str(value)


def _messages(*keys: str, **values: object) -> list[str]:
    from security.messages import message

    return [message(key, **values) for key in keys]


def _assert_refused(
    response: Any, expected: list[str], status: tuple[int, ...] = (200, 400)
) -> None:
    assert response.status_code in status, response.status_code
    page = response.get_data(as_text=True)
    assert any(text in page for text in expected), f"none of {expected} shown"


def _shown_plainly(response: Any, filter_field: str) -> None:
    """Whether the filter was taken or refused, the list comes back with its filter form."""
    assert filter_field in response.get_data(as_text=True)


def _no_success_events_since(before: dict[str, Any]) -> None:
    added = [row for row in snapshot()["events"] if row not in before["events"]]
    assert all("success" not in row for row in added), added


# --- the sign-in form -------------------------------------------------------------------

LOGIN_CASES = [
    ({"login": ""}, ["form.required"]),
    ({"password": ""}, ["form.required"]),
    ({"login": OVERLONG}, ["form.too_long"]),
    ({"password": OVERLONG}, ["form.too_long"]),
    *[({"login": value}, ["form.control_characters"]) for value in CONTROL],
    # A password is never shown back; a strange one is simply the wrong one.
    *[({"password": DEFAULT_PASSWORD + value}, ["login.invalid"]) for value in CONTROL],
]


@pytest.mark.parametrize(("changes", "keys"), LOGIN_CASES, ids=_case_id)
def test_login_form(app: Flask, employee: Any, changes: dict[str, str], keys: list[str]) -> None:
    client = app.test_client()
    before = snapshot()
    response = client.post(
        "/login", data={"login": "employee", "password": DEFAULT_PASSWORD, **changes}
    )
    _assert_refused(response, _messages(*keys, max=100) + _messages(*keys, max=256))
    assert without_events(snapshot()) == without_events(before)
    _no_success_events_since(before)
    assert client.get("/my/").status_code == 302


@pytest.mark.parametrize(
    "body",
    [
        b"login=%ff%fe&password=x",
        b"login=employee&password=%ff%fe%fd",
        b"login=\xff\xfe&password=\xc3\x28",
        b"login=emp%00loyee&password=x",
        b"%%%&&&==",
    ],
)
def test_login_form_with_non_utf8_bytes(app: Flask, employee: Any, body: bytes) -> None:
    client = app.test_client()
    before = snapshot()
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    _assert_refused(
        response, _messages("login.invalid", "form.required", "form.control_characters")
    )
    assert without_events(snapshot()) == without_events(before)
    assert client.get("/my/").status_code == 302


# --- the new-user and edit-user forms ---------------------------------------------------

USER_CASES = [
    ({"login": ""}, ["form.required"]),
    ({"login": "   "}, ["form.required", "user.login_invalid"]),
    ({"login": OVERLONG}, ["form.too_long"]),
    ({"login": "with space"}, ["user.login_invalid"]),
    ({"email": OVERLONG}, ["form.too_long"]),
    ({"name": OVERLONG}, ["form.too_long"]),
    ({"last_name": OVERLONG}, ["form.too_long"]),
    ({"password": OVERLONG, "password_confirm": OVERLONG}, ["form.too_long"]),
    ({"password": "short", "password_confirm": "short"}, ["user.password_short"]),
    ({"password_confirm": "something else entirely"}, ["user.passwords_differ"]),
    *[
        ({field: value}, ["form.control_characters", "user.login_invalid"])
        for field in ("login", "email", "name", "last_name")
        for value in CONTROL
    ],
    *[
        (
            {"password": DEFAULT_PASSWORD + value, "password_confirm": DEFAULT_PASSWORD + value},
            ["form.control_characters"],
        )
        for value in CONTROL
    ],
    ({"groups": "999"}, ["is not a valid choice", "user.unknown_group"]),
    ({"groups": "abc"}, ["could not be coerced"]),
]


def _user_form(**changes: str) -> dict[str, str]:
    return {
        "login": "newcomer",
        "email": "newcomer@example.com",
        "name": "New",
        "last_name": "Comer",
        "active": "y",
        "password": DEFAULT_PASSWORD,
        "password_confirm": DEFAULT_PASSWORD,
        "groups": "2",
        **changes,
    }


def _user_messages(keys: list[str]) -> list[str]:
    from security.messages import MESSAGES

    texts: list[str] = []
    for key in keys:
        if key in MESSAGES:
            texts += _messages(key, max=50, min=10) + _messages(key, max=100, min=10)
            texts += _messages(key, max=255, min=10) + _messages(key, max=256, min=10)
        else:
            texts.append(key)
    return texts


@pytest.mark.parametrize(("changes", "keys"), USER_CASES, ids=_case_id)
def test_new_user_form(admin_client: Any, changes: dict[str, str], keys: list[str]) -> None:
    before = snapshot()
    response = admin_client.post("/admin/users/new", data=_user_form(**changes))
    _assert_refused(response, _user_messages(keys))
    assert snapshot() == before


@pytest.mark.parametrize(("changes", "keys"), USER_CASES, ids=_case_id)
def test_edit_user_form(
    admin_client: Any, employee: Any, changes: dict[str, str], keys: list[str]
) -> None:
    before = snapshot()
    response = admin_client.post(
        f"/admin/users/{employee.id}", data=_user_form(**{"login": "employee", **changes})
    )
    _assert_refused(response, _user_messages(keys))
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        b"login=%ff%fe&password=correct+horse+battery&password_confirm=correct+horse+battery",
        b"login=\xff\xfe&name=\xc3\x28",
    ],
)
@pytest.mark.parametrize("where", ["new", "edit"])
def test_user_forms_with_non_utf8_bytes(
    admin_client: Any, employee: Any, body: bytes, where: str
) -> None:
    before = snapshot()
    path = "/admin/users/new" if where == "new" else f"/admin/users/{employee.id}"
    response = admin_client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    _assert_refused(response, _user_messages(["user.login_invalid", "form.required"]))
    assert snapshot() == before


def test_edit_of_an_unknown_user_is_404(admin_client: Any) -> None:
    assert admin_client.post("/admin/users/999999", data=_user_form()).status_code == 404
    assert admin_client.get("/admin/users/99999999999999999999999").status_code == 404


# --- the password change on My page -----------------------------------------------------

PASSWORD_CASES = [
    ({"current_password": ""}, ["form.required"]),
    ({"new_password": "", "new_password_confirm": ""}, ["form.required"]),
    ({"current_password": OVERLONG}, ["form.too_long"]),
    ({"new_password": OVERLONG, "new_password_confirm": OVERLONG}, ["form.too_long"]),
    ({"new_password": "short", "new_password_confirm": "short"}, ["user.password_short"]),
    ({"new_password_confirm": "not the same thing"}, ["user.passwords_differ"]),
    ({"current_password": "wrong password"}, ["mypage.current_password_wrong"]),
    *[
        (
            {"new_password": "long enough" + value, "new_password_confirm": "long enough" + value},
            ["form.control_characters"],
        )
        for value in CONTROL
    ],
]


@pytest.mark.parametrize(("changes", "keys"), PASSWORD_CASES, ids=_case_id)
def test_password_change_form(
    employee_client: Any, changes: dict[str, str], keys: list[str]
) -> None:
    before = snapshot()
    data = {
        "current_password": DEFAULT_PASSWORD,
        "new_password": "a new long password",
        "new_password_confirm": "a new long password",
        **changes,
    }
    response = employee_client.post("/my/security/password", data=data)
    _assert_refused(response, _user_messages(keys))
    assert without_events(snapshot()) == without_events(before)
    _no_success_events_since(before)


def test_password_change_with_non_utf8_bytes(employee_client: Any) -> None:
    before = snapshot()
    response = employee_client.post(
        "/my/security/password",
        data=b"current_password=\xff&new_password=%ff%fe%ff%fe%ff%fe&new_password_confirm=\xc3\x28",
        content_type="application/x-www-form-urlencoded",
    )
    _assert_refused(response, _user_messages(["form.required", "user.passwords_differ"]))
    assert without_events(snapshot()) == without_events(before)


# --- the list filters (GET) -------------------------------------------------------------

USER_FILTERS = [
    ({"q": OVERLONG}, ["form.too_long"]),
    *[({"q": value}, ["form.control_characters"]) for value in CONTROL],
    ({"q": "%ff%fe"}, None),
    ({"q": "%_\\"}, None),
    ({"group": "abc"}, None),
    ({"group": "999"}, None),
    ({"group": "\x00"}, None),
    ({"page": "abc"}, None),
    ({"page": "0"}, None),
    ({"page": "-1"}, None),
    ({"page": "99999999999999999999999"}, None),
    ({"page": "5000"}, None),
    ({"per_page": "0"}, None),
    ({"per_page": "100000"}, None),
    ({"per_page": OVERLONG}, None),
]


@pytest.mark.parametrize(("args", "keys"), USER_FILTERS, ids=_case_id)
def test_user_list_filters(
    admin_client: Any, employee: Any, args: dict[str, str], keys: list[str] | None
) -> None:
    before = snapshot()
    response = admin_client.get("/admin/users?" + urlencode(args))
    assert response.status_code in (200, 400)
    _shown_plainly(response, 'name="q"')
    if keys:
        _assert_refused(response, _user_messages(keys))
    assert snapshot() == before


def test_user_list_with_raw_non_utf8_query(admin_client: Any) -> None:
    response = admin_client.get("/admin/users", query_string="q=%ff%fe%C3%28&group=%ff")
    assert response.status_code in (200, 400)


EVENT_FILTERS = [
    ({"user": OVERLONG}, ["form.too_long"]),
    *[({"user": value}, ["form.control_characters"]) for value in CONTROL],
    ({"type": "no_such_type"}, None),
    ({"type": OVERLONG}, None),
    ({"since": "not a date"}, None),
    ({"since": "2024-13-45"}, None),
    ({"since": "0001-01-01"}, None),
    ({"until": "0001-01-01"}, None),
    ({"since": "9999-12-31"}, None),
    ({"until": "9999-12-31"}, None),
    ({"until": "\x00"}, None),
    ({"page": "abc"}, None),
    ({"page": "100000"}, None),
    ({"page": "-5"}, None),
]


@pytest.mark.parametrize("path", ["/admin/events", "/admin/events.csv"])
@pytest.mark.parametrize(("args", "keys"), EVENT_FILTERS, ids=_case_id)
def test_event_filters(
    admin_client: Any, path: str, args: dict[str, str], keys: list[str] | None
) -> None:
    before = snapshot()
    response = admin_client.get(path + "?" + urlencode(args))
    assert response.status_code in (200, 400), response.status_code
    if path.endswith(".csv") and response.status_code == 200:
        assert response.mimetype == "text/csv"
    else:
        _shown_plainly(response, 'name="user"')
    if keys and path == "/admin/events":
        _assert_refused(response, _user_messages(keys))
    assert snapshot() == before


def test_a_request_larger_than_allowed_is_refused_plainly(app: Flask) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        data=b"login=" + b"x" * (300 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert message("error.title.413") in page
    assert message("error.explanation.413") in page


# --- application passwords and API clients ---------------------------------------------

APP_PASSWORD_NAMES = [
    ("", ["app_password.name_required"]),
    (OVERLONG, ["form.too_long"]),
    *[(value, ["form.control_characters"]) for value in CONTROL],
]


@pytest.mark.parametrize(("name", "keys"), APP_PASSWORD_NAMES, ids=_case_id)
def test_application_password_form(employee_client: Any, name: str, keys: list[str]) -> None:
    before = snapshot()
    response = employee_client.post("/my/security/app-passwords", data={"name": name})
    _assert_refused(response, _user_messages(keys))
    assert 'class="app-password"' not in response.get_data(as_text=True)
    assert snapshot() == before


API_CLIENT_FIELDS: list[tuple[dict[str, str], tuple[str, dict[str, object]]]] = [
    ({"name": ""}, ("api_client.name_required", {})),
    ({"name": OVERLONG}, ("form.too_long", {"max": 100})),
    *[({"name": value}, ("form.control_characters", {})) for value in CONTROL],
    ({"networks": OVERLONG}, ("form.too_long", {"max": 4000})),
    ({"networks": "10.0.0.0/8\n\x00"}, ("api_client.network_invalid", {"line": "\ufffd"})),
    ({"networks": "999.1.1.1"}, ("api_client.network_invalid", {"line": "999.1.1.1"})),
    ({"scopes": "everything"}, ("", {})),  # WTForms' own "not a valid choice"
]


@pytest.mark.parametrize(("changes", "expected"), API_CLIENT_FIELDS, ids=_case_id)
def test_api_client_form(
    admin_client: Any, changes: dict[str, str], expected: tuple[str, dict[str, object]]
) -> None:
    before = snapshot()
    data = {"name": "VPN", "scopes": "validate", "networks": "", **changes}
    response = admin_client.post("/admin/api-clients", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="api-key"' not in page
    assert 'class="error"' in page
    key, values = expected
    if key:
        assert str(escape(message(key, **values))) in page
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/my/security/app-passwords", b"name=\xff\xfe"),
        ("/admin/api-clients", b"name=%ff%fe&scopes=validate&networks=\xc3\x28"),
    ],
)
def test_new_forms_with_non_utf8_bytes(admin_client: Any, path: str, body: bytes) -> None:
    before = snapshot()
    response = admin_client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 400)
    page = response.get_data(as_text=True)
    assert 'class="api-key"' not in page and 'class="app-password"' not in page
    assert snapshot() == before
