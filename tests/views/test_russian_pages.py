"""Every page in Russian holds no English sentence of the catalog.

The walk opens every GET page of the url map (and each tab of a user's profile) as a
signed-out visitor, an employee and an administrator, with two-step off and on, a device
connected, switched off, locked and in its grace period, and a few forms sent back with
bad input, all with a Russian browser. It collects what a person reads (text, titles,
labels, placeholders, confirmations, the gear's texts) and fails on any piece of an English
sentence from security/messages.py found there: a string that skipped the catalog, a form
label read at import time, a date written by hand, or an entry the translation lacks.
"""

from __future__ import annotations

import html
import io
import json
import re
import string
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import wtforms
from flask import Flask
from flask.testing import FlaskClient

from security.messages import MESSAGES, Plural
from tests.support import inventory_token_id, iter_routes, sign_in, totp_code
from web.i18n import TRANSLATIONS, read_catalog

RUSSIAN = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9"}
# Names that are the same in every language (proper names, protocols, formats).
SAME_IN_EVERY_LANGUAGE = frozenset(
    {"TOTP", "HOTP", "QR", "otpauth", "SHA", "RFC", "UTC", "HMAC", "Base32", "CSV", "English"}
)
SHOWN_ATTRIBUTES = frozenset({"title", "aria-label", "placeholder", "alt", "data-confirm"})


# ---------------------------------------------------------------------------- the catalog


def _forms(entry: str | Plural) -> tuple[str, ...]:
    return (entry.one, entry.other) if isinstance(entry, Plural) else (entry,)


@cache
def _russian() -> dict[str, tuple[str, ...]]:
    catalog = read_catalog(TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po")
    return {
        str(entry.context): entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for entry in catalog
        if entry.id
    }


def _pieces(text: str) -> Iterator[str]:
    """The literal runs of a catalog text, between its {placeholders}."""
    for literal, _name, _spec, _conversion in string.Formatter().parse(text):
        piece = literal.strip(" .,:;!?()[]“”«»\"'—–·-+=/\n")
        # A lone short word ("to", "of") is no sentence: it would be found inside data.
        if re.search(r"[A-Za-z]{2,}", piece) and (" " in piece or len(piece) >= 4):
            yield piece


@cache
def english_pieces() -> dict[str, str]:
    """Each piece of English a Russian page must not show, with the key it comes from."""
    pieces: dict[str, str] = {}
    for key, entry in MESSAGES.items():
        russian = " ".join(_russian().get(key, ()))
        for text in _forms(entry):
            for piece in _pieces(text):
                if piece in russian:
                    continue  # the translation keeps it: a name the same in both languages
                if set(re.findall(r"[A-Za-z]{2,}\w*", piece)) <= SAME_IN_EVERY_LANGUAGE:
                    continue
                pieces.setdefault(piece, key)
    # WTForms' own messages ("Not a valid integer value."), which Flask-WTF translates.
    for entry in read_catalog(Path(wtforms.__file__).parent / "locale/ru/LC_MESSAGES/wtforms.po"):
        for text in entry.id if isinstance(entry.id, tuple) else (entry.id,):
            for piece in _pieces(text.replace("%(", "{").replace(")s", "}").replace(")d", "}")):
                pieces.setdefault(piece, "wtforms")
    return pieces


@cache
def _pattern() -> re.Pattern[str]:
    alternatives = sorted(english_pieces(), key=len, reverse=True)
    return re.compile(
        r"(?<![A-Za-z])(?:"
        + "|".join(re.escape(piece) for piece in alternatives)
        + r")(?![A-Za-z])"
    )


# ---------------------------------------------------------------------------- the page


class _ShownText(HTMLParser):
    """What a person reads: text, shown attributes, button values, the scripts' JSON texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._json = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
            self._json = values.get("type") == "application/json"
        for name, value in attrs:
            if value and name in SHOWN_ATTRIBUTES:
                self.parts.append(value)
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
            self._json = False

    def handle_data(self, data: str) -> None:
        if self._json:
            # The script fills the {names} of these texts; the names are no words to read.
            texts = _json_strings(json.loads(data))
            self.parts.extend(re.sub(r"\{\w+\}", " ", text) for text in texts)
        elif not self._skip:
            self.parts.append(data)


def _json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def shown_text(html: str) -> str:
    parser = _ShownText()
    parser.feed(html)
    return "\n".join(" ".join(part.split()) for part in parser.parts if part.strip())


def english_on(html: str) -> list[str]:
    """The English catalog pieces a page shows, each with its key and what stands round it."""
    text = shown_text(html)
    return sorted(
        {
            f"{english_pieces()[match.group(0)]}: {match.group(0)!r} in "
            f"{text[max(0, match.start() - 40) : match.end() + 20]!r}"
            for match in _pattern().finditer(text)
        }
    )


def test_the_check_finds_english_and_passes_russian() -> None:
    assert english_on("<p>Incorrect login or password.</p>") == [
        "login.invalid: 'Incorrect login or password' in 'Incorrect login or password.'"
    ]
    assert english_on('<button title="Sign out">x</button>') != []
    assert english_on('<script type="application/json">{"a": "Preview"}</script>') != []
    assert english_on("<p>Неверный логин или пароль.</p><p>TOTP · UTC · Europe/Moscow</p>") == []
    assert english_on("<script>var Sign = 'out';</script>") == []
    assert english_on("<p>Not a valid integer value.</p>") != []  # WTForms' own words


# ---------------------------------------------------------------------------- the walk


@pytest.fixture
def russian_browser(app: Flask) -> Any:
    def open_browser() -> FlaskClient:
        client = app.test_client()
        client.environ_base.update(RUSSIAN)
        return client

    return open_browser


def _get(client: FlaskClient, path: str, where: str, pages: dict[str, str]) -> None:
    response = client.get(path)
    assert response.status_code in (200, 302, 303, 400, 403, 404, 429), (
        where,
        path,
        response.status_code,
    )
    if response.status_code in (302, 303):  # a redirect shows nothing to read
        return
    if response.mimetype != "text/html":  # for machines: /healthz, /readyz, /metrics
        return
    pages[f"{where} GET {path}"] = response.get_data(as_text=True)


def _post(
    client: FlaskClient, path: str, data: dict[str, str], where: str, pages: dict[str, str]
) -> None:
    response = client.post(path, data=data)
    assert response.status_code in (200, 302, 303, 400, 403, 429), (
        where,
        path,
        response.status_code,
    )
    if response.status_code not in (302, 303):
        pages[where] = response.get_data(as_text=True)


def _walk_every_get(
    app: Flask, client: FlaskClient, where: str, values: dict[str, object]
) -> dict[str, str]:
    pages: dict[str, str] = {}
    values = {"password_id": 1, "client_id": 1, "login": "nobody", **values}
    for route in iter_routes(app, values):
        if route.method != "GET" or route.path.endswith(".csv"):
            continue
        if route.path.startswith("/api/v1/"):
            continue  # the API speaks to programs, in English (see the catalog tests)
        _get(client, route.path, where, pages)
    return pages


def _assert_russian(pages: dict[str, str]) -> None:
    found = {where: english for where, html in pages.items() if (english := english_on(html))}
    assert found == {}
    not_russian = [
        f"{where}: {html[:200]!r}"
        for where, html in pages.items()
        if "<html" in html and '<html lang="ru">' not in html
    ]
    assert not_russian == []


LOGINS = {
    "connected": "ivanov",
    "switched_off": "petrova",
    "locked": "sidorov",
    "in_grace": "smirnova",
}


def _signed_in(browser: FlaskClient, login: str) -> FlaskClient:
    """Sign in, with the code of the device connect_device gave, when one is asked."""
    response = sign_in(browser, login)
    if response.headers.get("Location", "").endswith("/login/otp"):
        response = browser.post("/login/otp", data={"code": totp_code()})
    assert response.status_code in (302, 303), login
    assert not response.headers["Location"].startswith("/login"), login
    return browser


def _lock(user: Any) -> None:
    """Lock the second step of a user, as five wrong codes do."""
    from extensions import db
    from models import utcnow
    from security import two_step

    account = two_step.ensure_account(user.id)
    account.failed_attempts, account.locked_until = 5, utcnow() + timedelta(minutes=9)
    db.session.commit()


def _users_in_every_state(
    make_user: Any, connect_device: Any, two_step_on: Any, *, lock: bool = True
) -> dict[str, Any]:
    """Employees whose two-step is connected, switched off, locked and in its grace period."""
    from extensions import db
    from models import utcnow
    from security import two_step

    settings = two_step_on(mandatory=True, mandatory_groups="2", mandatory_days=5)
    now = utcnow()
    # Logins that are no English words, which the check would find on the pages.
    users = {name: make_user(login) for name, login in LOGINS.items()}
    for name in ("connected", "switched_off", "locked"):
        connect_device(users[name])
    two_step.disable(
        users["switched_off"], days=3, now=now, actor=None, ip="test", settings=settings
    )
    two_step.ensure_account(users["in_grace"].id).grace_deadline = now + timedelta(days=2)
    db.session.commit()
    if lock:
        _lock(users["locked"])
    return users


def test_a_signed_out_visitor_reads_russian(
    app: Flask, russian_browser: Any, admin: Any, employee: Any
) -> None:
    pages: dict[str, str] = {}
    browser = russian_browser()
    for path in ("/login", "/login?next=/my/", "/no-such-page"):
        _get(browser, path, "signed out", pages)
    _post(
        browser,
        "/login",
        {"login": "employee", "password": "wrong password"},
        "signed out: a wrong password",
        pages,
    )
    _post(browser, "/login", {"login": "", "password": ""}, "signed out: an empty form", pages)
    _assert_russian(pages)


def test_the_sign_in_steps_read_russian(
    app: Flask,
    russian_browser: Any,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
    admin: Any,
) -> None:
    from extensions import db
    from models import utcnow
    from security import two_step

    users = _users_in_every_state(make_user, connect_device, two_step_on)
    pages: dict[str, str] = {}
    code_step = russian_browser()
    assert sign_in(code_step, LOGINS["connected"]).status_code in (302, 303)
    _get(code_step, "/login/otp", "code step", pages)
    _post(code_step, "/login/otp", {"code": "000000"}, "code step: a wrong code", pages)
    _post(code_step, "/login/otp", {"code": "12"}, "code step: a malformed code", pages)
    # Forced connection: the grace period is over.
    two_step.ensure_account(users["in_grace"].id).grace_deadline = utcnow() - timedelta(days=1)
    db.session.commit()
    forced = russian_browser()
    assert sign_in(forced, LOGINS["in_grace"]).status_code in (302, 303)
    _get(forced, "/login/connect", "forced connection", pages)
    _post(forced, "/login/connect", {"code": "000000"}, "forced connection: a wrong code", pages)
    _assert_russian(pages)


@pytest.mark.parametrize("two_step", ["off", "on"])
def test_every_page_of_an_employee_reads_russian(
    app: Flask,
    russian_browser: Any,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
    admin: Any,
    two_step: str,
) -> None:
    if two_step == "on":
        users = _users_in_every_state(make_user, connect_device, two_step_on, lock=False)
    else:
        users = {"employee": make_user("kuznetsov")}
    # Signed in first: a locked second step lets nobody in, yet My page shows the lock.
    browsers = {user.login: _signed_in(russian_browser(), user.login) for user in users.values()}
    if "locked" in users:
        _lock(users["locked"])
    pages: dict[str, str] = {}
    for login, browser in browsers.items():
        for path in (
            "/my/",
            "/my/security",
            "/my/security/connect",
            "/my/security/recovery-codes",
            "/my/settings",
            "/my/notifications",
            "/my/reauth?next=/my/security",
            "/admin/",
        ):
            _get(browser, path, login, pages)
        _post(
            browser,
            "/my/settings",
            {"language": "xx", "timezone": "Mars/Base"},
            f"{login}: bad settings",
            pages,
        )
        _post(
            browser,
            "/my/security/password",
            {"current_password": "nope", "new_password": "short", "new_password_confirm": "x"},
            f"{login}: a bad password change",
            pages,
        )
        # Application passwords: a new one shown once, the list with it, a bad name.
        _post(
            browser,
            "/my/security/app-passwords",
            {"name": "Thunderbird"},
            f"{login}: a new application password",
            pages,
        )
        _get(browser, "/my/security/app-passwords", f"{login}: application passwords", pages)
        _post(browser, "/my/security/app-passwords", {"name": ""}, f"{login}: a bad name", pages)
        for new_password, what in PASSWORDS_REFUSED(login):
            _post(
                browser,
                "/my/security/password",
                {
                    "current_password": "correct horse battery",
                    "new_password": new_password,
                    "new_password_confirm": new_password,
                },
                f"{login}: a new password {what}",
                pages,
            )
    # The refusals were shown, in Russian (the walk checks the rest). Only the first
    # browser's: the others share its address, whose password attempts are limited.
    first = next(iter(browsers))
    for key, what in [
        ("password.common", "that is common"),
        ("password.made_of_login", "made of the login"),
        ("password.made_of_console_name", "made of the console's name"),
        ("password.same_as_current", "that is the current one"),
        ("password.too_long", "too long"),
    ]:
        russian = _russian()[key][-1].replace("{max}", "256")
        assert russian in html.unescape(pages[f"{first}: a new password {what}"]), key
    _assert_russian(pages)


def PASSWORDS_REFUSED(login: str) -> list[tuple[str, str]]:  # noqa: N802 - a table
    """New passwords the rules refuse, each with its own message, and what is wrong."""
    return [
        ("QWERTYUIOP", "that is common"),
        (f"{login}-2024", "made of the login"),
        ("Company portal 1", "made of the console's name"),
        ("correct horse battery", "that is the current one"),
        ("x" * 257, "too long"),
    ]


@pytest.mark.parametrize("two_step", ["off", "on"])
def test_every_page_of_an_administrator_reads_russian(
    app: Flask,
    russian_browser: Any,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
    admin: Any,
    two_step: str,
) -> None:
    from extensions import db
    from models import UserSession

    users = (
        _users_in_every_state(make_user, connect_device, two_step_on)
        if two_step == "on"
        else {"employee": make_user("kuznetsov")}
    )
    browser = russian_browser()
    assert sign_in(browser, "admin").status_code in (302, 303)
    session_id = db.session.scalar(db.select(UserSession.id).where(UserSession.user_id == admin.id))
    token_id = inventory_token_id()
    pages: dict[str, str] = {}
    for user in users.values():
        values = {
            "user_id": user.id,
            "session_id": session_id,
            "form_id": "user_edit",
            "token_id": token_id,
        }
        pages |= _walk_every_get(app, browser, f"administrator, user {user.login}", values)
        for tab in ("main", "groups", "personal", "otp", "events"):
            _get(browser, f"/admin/users/{user.id}?tab={tab}", "administrator", pages)
    for path in (
        "/admin/form-settings/otp_settings",
        "/admin/users?q=nobody",
        "/admin/users?otp=locked",
        "/admin/events?type=sign_in",
        "/admin/users/new?tab=personal",
        "/admin/security/tokens?state=lost",
        f"/admin/users/{next(iter(users.values())).id}/otp/connect?source=inventory",
    ):
        _get(browser, path, "administrator", pages)
    response = browser.post(
        "/admin/security/tokens/import",
        data={"file": (io.BytesIO(b"T-1,zz!,sometimes\n,,totp\n"), "t.csv"), "key": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    pages["administrator: a bad token file"] = response.get_data(as_text=True)
    _post(
        browser,
        "/admin/security/otp",
        {"default_type": "x", "hotp_window": "z"},
        "administrator: bad parameters",
        pages,
    )
    _post(
        browser,
        "/admin/users/new",
        {"login": "", "password": "x"},
        "administrator: a bad new user",
        pages,
    )
    for password, what in [
        *PASSWORDS_REFUSED("novikova"),
        ("n.orlova@example.org", "made of the e-mail"),
    ]:
        _post(
            browser,
            "/admin/users/new",
            {
                "login": "novikova",
                "email": "n.orlova@example.org",
                "password": password,
                "password_confirm": password,
            },
            f"administrator: a new user's password {what}",
            pages,
        )
    _get(browser, "/admin/events?since=yesterday", "administrator: a bad event filter", pages)
    # API clients: a new key shown once, the list with it, bad input.
    _post(
        browser,
        "/admin/api-clients",
        {"name": "VPN", "scopes": "validate", "networks": "10.0.0.0/8"},
        "administrator: a new API client",
        pages,
    )
    _get(browser, "/admin/api-clients", "administrator: API clients", pages)
    _post(
        browser,
        "/admin/api-clients",
        {"name": "", "networks": "nonsense"},
        "administrator: a bad API client",
        pages,
    )
    _post(
        browser,
        "/admin/settings/directory",
        {"urls": "http://x", "login_attribute": "uid", "group_map": "{"},
        "administrator: bad directory settings",
        pages,
    )
    _assert_russian(pages)
