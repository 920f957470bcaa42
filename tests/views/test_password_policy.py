"""Passwords as NIST SP 800-63B asks, wherever a person meets them.

Normalised (NFKC) before hashing and checking, with hashes from before still opening and
made again once; a new password that is the current one refused; common and breached
passwords, passwords made of the login, the e-mail or the console's name, and overlong
ones refused with their own message at every place a password is set: My page, the
administrator's new-user and profile forms, `users create` and the first administrator.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from markupsafe import escape

from tests.support import (
    BASE_SETTINGS,
    DEFAULT_PASSWORD,
    events_of,
    post_new_user,
    sign_in,
    snapshot,
    user_named,
    without_events,
)

# One password, composed (é as one character) and decomposed (e + a combining accent), as
# different keyboards and systems send it.
COMPOSED = unicodedata.normalize("NFC", "Café crème brûlée")
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)
# The hasher the console had before normalising, with the test settings' costs.
OLD_HASHER = PasswordHasher(
    time_cost=BASE_SETTINGS["PASSWORD_ARGON2_TIME_COST"],
    memory_cost=BASE_SETTINGS["PASSWORD_ARGON2_MEMORY_KIB"],
    parallelism=BASE_SETTINGS["PASSWORD_ARGON2_PARALLELISM"],
)


def _shown(response: Any, key: str, **values: Any) -> bool:
    from security.messages import message

    return str(escape(message(key, **values))) in response.get_data(as_text=True)


def _stored_hash(login: str) -> str:
    user = user_named(login)
    assert user is not None
    return str(user.password_hash)


def _set_old_hash(login: str, typed: str) -> str:
    """Store the hash the console made before normalising: of the password as typed."""
    from extensions import db

    user = user_named(login)
    user.password_hash = OLD_HASHER.hash(typed)
    db.session.commit()
    return str(user.password_hash)


# ---------------------------------------------------------------------------- NFKC


def test_the_two_forms_differ_but_are_one_password() -> None:
    from security.passwords import normalize_password

    assert COMPOSED != DECOMPOSED
    assert normalize_password(COMPOSED) == normalize_password(DECOMPOSED)


def test_a_password_set_composed_signs_in_typed_either_way(app: Flask, make_user: Any) -> None:
    make_user("fontaine", COMPOSED)
    stored = _stored_hash("fontaine")
    for typed in (DECOMPOSED, COMPOSED, DECOMPOSED):
        assert sign_in(app.test_client(), "fontaine", typed).status_code == 303, ascii(typed)
    assert _stored_hash("fontaine") == stored  # nothing to make again


def test_a_password_set_decomposed_signs_in_typed_either_way(app: Flask, make_user: Any) -> None:
    make_user("fontaine", DECOMPOSED)
    for typed in (COMPOSED, DECOMPOSED):
        assert sign_in(app.test_client(), "fontaine", typed).status_code == 303, ascii(typed)


def test_full_width_letters_are_the_ordinary_ones(app: Flask, make_user: Any) -> None:
    make_user("fontaine", "Ｆｕｌｌ ｗｉｄｔｈ ｍｏｏｎ")
    assert sign_in(app.test_client(), "fontaine", "Full width moon").status_code == 303


def test_an_old_hash_of_the_typed_form_opens_and_is_made_again_once(
    app: Flask, make_user: Any
) -> None:
    make_user("fontaine")
    old = _set_old_hash("fontaine", DECOMPOSED)
    # Before the change this hash opened for the decomposed form only: it still does.
    assert sign_in(app.test_client(), "fontaine", DECOMPOSED).status_code == 303
    new = _stored_hash("fontaine")
    assert new != old
    assert OLD_HASHER.verify(new, COMPOSED)  # now the normalised form's hash
    # Both forms sign in from now on, and the hash is not made again.
    for typed in (COMPOSED, DECOMPOSED, COMPOSED):
        assert sign_in(app.test_client(), "fontaine", typed).status_code == 303, ascii(typed)
        assert _stored_hash("fontaine") == new


def test_an_old_hash_is_not_touched_by_a_wrong_password(app: Flask, make_user: Any) -> None:
    from security.messages import message

    make_user("fontaine")
    old = _set_old_hash("fontaine", DECOMPOSED)
    wrong = sign_in(app.test_client(), "fontaine", unicodedata.normalize("NFD", "Café crème"))
    assert wrong.status_code == 200
    assert message("login.invalid") in wrong.get_data(as_text=True)
    assert _stored_hash("fontaine") == old
    assert [event.details for event in events_of("sign_in_failed")] == ["reason=wrong password"]


def test_an_old_hash_of_a_normalised_password_is_left_alone(app: Flask, make_user: Any) -> None:
    make_user("fontaine")
    old = _set_old_hash("fontaine", COMPOSED)
    for typed in (DECOMPOSED, COMPOSED):
        assert sign_in(app.test_client(), "fontaine", typed).status_code == 303
    assert _stored_hash("fontaine") == old


def test_re_authentication_takes_either_form(app: Flask, make_user: Any) -> None:
    make_user("fontaine")
    _set_old_hash("fontaine", DECOMPOSED)
    browser = app.test_client()
    assert sign_in(browser, "fontaine", DECOMPOSED).status_code == 303
    response = browser.post("/my/reauth", data={"password": COMPOSED, "next": "/my/security"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/my/security")


def test_an_unknown_login_is_refused_the_same_way_in_either_form(app: Flask) -> None:
    from security.messages import message

    for typed in (COMPOSED, DECOMPOSED):
        response = sign_in(app.test_client(), "nobody", typed)
        assert response.status_code == 200
        assert message("login.invalid") in response.get_data(as_text=True)


# ---------------------------------------------------------------------------- really changed


def _change_password(browser: Any, new: str, current: str = DEFAULT_PASSWORD) -> Any:
    return browser.post(
        "/my/security/password",
        data={"current_password": current, "new_password": new, "new_password_confirm": new},
    )


def test_the_current_password_is_refused_as_the_new_one(
    app: Flask, employee: Any, employee_client: Any
) -> None:
    before = without_events(snapshot())
    response = _change_password(employee_client, DEFAULT_PASSWORD)
    assert response.status_code == 400
    assert _shown(response, "password.same_as_current")
    assert without_events(snapshot()) == before
    assert not [e for e in events_of("password_changed") if e.outcome == "success"]


def test_the_current_password_in_another_form_or_case_of_normalisation_is_refused(
    app: Flask, make_user: Any
) -> None:
    make_user("fontaine", COMPOSED)
    browser = app.test_client()
    assert sign_in(browser, "fontaine", COMPOSED).status_code == 303
    stored = _stored_hash("fontaine")
    response = _change_password(browser, DECOMPOSED, current=COMPOSED)
    assert response.status_code == 400
    assert _shown(response, "password.same_as_current")
    assert _stored_hash("fontaine") == stored


def test_a_different_password_is_taken(app: Flask, employee: Any, employee_client: Any) -> None:
    response = _change_password(employee_client, "staple paperclip lantern")
    assert response.status_code == 303
    assert sign_in(app.test_client(), "employee", "staple paperclip lantern").status_code == 303


# ---------------------------------------------------------------------------- every place


@dataclass(frozen=True)
class Place:
    """A place where a password is set: `set(password)` returns what the person sees."""

    name: str
    login: str
    email: str
    set: Callable[[str], tuple[bool, str]]


LOGIN = "wilhelmina"  # ten characters: the password may be the login itself
EMAIL = "w.rothschild@example.org"


def _page(response: Any) -> tuple[bool, str]:
    assert response.status_code in (200, 303, 400), response.status_code
    return response.status_code in (302, 303), response.get_data(as_text=True)


def _cli(result: Any) -> tuple[bool, str]:
    if result.exit_code != 0:
        # A refusal is a one-line message and a clean exit, not a crash.
        assert isinstance(result.exception, SystemExit), result.output
    return result.exit_code == 0, result.output


@pytest.fixture(params=["my_page", "admin_new", "admin_edit", "cli_create", "cli_first_admin"])
def place(request: pytest.FixtureRequest, app: Flask, make_user: Any) -> Place:
    name = request.param
    if name == "my_page":
        make_user(LOGIN, email=EMAIL)
        browser = app.test_client()
        assert sign_in(browser, LOGIN).status_code == 303
        return Place(name, LOGIN, EMAIL, lambda pw: _page(_change_password(browser, pw)))
    if name in ("admin_new", "admin_edit"):
        make_user("admin", admin=True)
        browser = app.test_client()
        assert sign_in(browser, "admin").status_code == 303
        if name == "admin_new":
            return Place(
                name,
                LOGIN,
                EMAIL,
                lambda pw: _page(
                    post_new_user(browser, LOGIN, email=EMAIL, password=pw, password_confirm=pw)
                ),
            )
        user = make_user(LOGIN, email=EMAIL)
        fields = {"login": LOGIN, "email": EMAIL, "groups": [2], "active": "y"}
        return Place(
            name,
            LOGIN,
            EMAIL,
            lambda pw: _page(
                browser.post(
                    f"/admin/users/{user.id}",
                    data={**fields, "password": pw, "password_confirm": pw},
                )
            ),
        )
    runner = app.test_cli_runner()
    if name == "cli_create":
        return Place(
            name,
            LOGIN,
            EMAIL,
            lambda pw: _cli(
                runner.invoke(args=["users", "create", LOGIN, "--password", pw, "--email", EMAIL])
            ),
        )
    # The first administrator's login is `admin`, with no e-mail.
    return Place(
        name,
        "admin",
        "",
        lambda pw: _cli(runner.invoke(args=["users", "ensure-admin"], env={"ADMIN_PASSWORD": pw})),
    )


def _refused(place: Place, password: str, key: str, **values: Any) -> str:
    """Set the password at the place; assert it was refused with `key` and nothing changed."""
    from security.messages import message

    before = without_events(snapshot())
    accepted, shown = place.set(password)
    assert not accepted, (place.name, password)
    text = message(key, **values)
    assert text in shown or str(escape(text)) in shown, (place.name, key, shown[-400:])
    assert without_events(snapshot()) == before
    return shown


COMMON = "QwertyUIOP"  # "qwertyuiop", one of the most common, in another case
TOO_LONG = ("correct horse battery staple " * 10)[:257]


def test_a_common_password_is_refused(place: Place) -> None:
    shown = _refused(place, COMMON, "password.common")
    assert COMMON not in shown  # the message says why without showing the password


def test_a_breached_password_deep_in_the_list_is_refused(place: Place) -> None:
    # Number 99,426 of the 100,000: the whole list is there, not only its head.
    _refused(place, "123QAZwsxEDC", "password.common")


def test_the_login_as_the_password_is_refused(place: Place) -> None:
    password = place.login if len(place.login) >= 10 else place.login + "123456"
    _refused(place, password, "password.made_of_login")


def test_the_login_with_digits_and_marks_is_refused(place: Place) -> None:
    _refused(place, place.login.capitalize() + "-2024!", "password.made_of_login")


def test_the_e_mail_as_the_password_is_refused(place: Place) -> None:
    if not place.email:
        pytest.skip("the first administrator has no e-mail")
    _refused(place, place.email, "password.made_of_email")
    _refused(place, "W.Rothschild 1999", "password.made_of_email")


def test_the_console_name_as_the_password_is_refused(place: Place) -> None:
    _refused(place, "Company portal 2024", "password.made_of_console_name")
    _refused(place, "Two-step console!", "password.made_of_console_name")


def test_a_password_of_257_characters_is_refused(place: Place) -> None:
    from security.passwords import MAX_PASSWORD_LENGTH

    shown = _refused(place, TOO_LONG, "password.too_long", max=MAX_PASSWORD_LENGTH)
    assert TOO_LONG not in shown


def test_a_short_password_is_still_refused(place: Place) -> None:
    _refused(place, "abcde1234", "user.password_short", min=10)


def test_a_good_password_is_taken(place: Place) -> None:
    accepted, shown = place.set("staple paperclip lantern")
    assert accepted, shown[-400:]
    assert user_named(place.login) is not None


def test_a_password_of_256_characters_is_taken(place: Place) -> None:
    accepted, shown = place.set(TOO_LONG[:256])
    assert accepted, shown[-400:]


# ---------------------------------------------------------------------------- the pages


def test_a_very_long_password_gets_a_message_not_413(
    app: Flask, employee: Any, employee_client: Any
) -> None:
    from security.passwords import MAX_PASSWORD_LENGTH

    response = _change_password(employee_client, "word " * 4000)
    assert response.status_code == 400
    assert _shown(response, "password.too_long", max=MAX_PASSWORD_LENGTH)


def test_the_password_forms_carry_the_strength_meter(
    admin: Any, admin_client: Any, employee: Any
) -> None:
    for path in ("/my/security", "/admin/users/new", f"/admin/users/{employee.id}"):
        page = admin_client.get(path).get_data(as_text=True)
        assert "data-strength-meter" in page, path
        assert 'id="password-meter-texts"' in page, path
        assert "/static/password_meter.js" in page, path
        assert _shown(admin_client.get(path), "password.rules_hint"), path


def test_the_meter_script_is_served_under_the_console_s_policy(admin_client: Any) -> None:
    page = admin_client.get("/my/security")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    # Its texts travel as data, which the policy does not run; no inline script is added.
    html = page.get_data(as_text=True)
    assert html.count("<script>") == 0
    with admin_client.get("/static/password_meter.js") as script:
        assert script.status_code == 200
        assert script.mimetype in ("text/javascript", "application/javascript")


def test_a_password_of_the_longest_length_signs_in_typed_decomposed(
    app: Flask, make_user: Any
) -> None:
    from security.passwords import MAX_PASSWORD_LENGTH

    longest = ("é" * MAX_PASSWORD_LENGTH)[: MAX_PASSWORD_LENGTH - 6] + " crème"
    assert len(longest) == MAX_PASSWORD_LENGTH
    typed = unicodedata.normalize("NFD", longest)
    assert len(typed) > MAX_PASSWORD_LENGTH  # as typed, longer than the limit
    make_user("fontaine", longest)
    browser = app.test_client()
    assert sign_in(browser, "fontaine", typed).status_code == 303
    response = browser.post("/my/reauth", data={"password": typed, "next": "/my/security"})
    assert response.status_code == 303
    changed = _change_password(browser, "staple paperclip lantern", current=typed)
    assert changed.status_code == 303


def test_a_new_password_of_the_longest_length_is_taken_typed_decomposed(
    app: Flask, employee: Any, employee_client: Any
) -> None:
    from security.passwords import MAX_PASSWORD_LENGTH

    longest = ("é" * MAX_PASSWORD_LENGTH)[: MAX_PASSWORD_LENGTH - 6] + " crème"
    typed = unicodedata.normalize("NFD", longest)
    assert _change_password(employee_client, typed).status_code == 303
    assert sign_in(app.test_client(), "employee", longest).status_code == 303
