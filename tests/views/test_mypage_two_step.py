"""My page → Security: two-step states, connecting, reconnecting, disabling, recovery codes."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update

from extensions import db
from models import (
    OtpDevice,
    RecoveryCode,
    RememberedComputer,
    TwoStepAccount,
    User,
    utcnow,
)
from security import device_connection, keys, otp, remembered_computers, two_step
from security.messages import message
from tests.support import (
    CONNECTION_INPUT,
    DEFAULT_PASSWORD,
    RFC_SECRET,
    SECRET_SHOWN,
    Auth,
    csrf_token_from,
    event_types,
    hotp_code,
    make_sign_in_stale,
    shown_time,
    totp_code,
)

EMPLOYEES = "2"
OTPAUTH_LINK = re.compile(r'<a [^>]*href="(otpauth://[^"]+)"')
SVG = re.compile(r"<svg\b.*?</svg>", re.S)
RECOVERY_LIST = re.compile(r'<ol class="recovery-codes">(.*?)</ol>', re.S)
RECOVERY_ITEM = re.compile(r"<li><code>([^<]*)</code></li>")
SAVE_LINK = re.compile(r'<a [^>]*download="recovery_codes.txt"[^>]*href="([^"]+)"[^>]*>([^<]*)<')


# --- helpers --------------------------------------------------------------------------


def _page(response: Any) -> str:
    """The page as a person reads it: entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def _words(response: Any) -> str:
    """The page's visible text: tags dropped, whitespace collapsed."""
    inline = re.sub(r"</?(?:a|b|code|em|span|strong|time)\b[^>]*>", "", _page(response))
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


def _shown(response: Any, sentence: str) -> bool:
    """Tell whether a catalog sentence appears in the page's visible text."""
    return " ".join(sentence.split()) in _words(response)


def _sign_in(app: Flask, login: str, code: str | None = None) -> FlaskClient:
    """Open a new browser and sign in, with the second step's code when one is asked."""
    client = app.test_client()
    response = Auth(client).login(login)
    assert response.status_code == 303
    if code is not None:
        assert response.headers["Location"] == "/login/otp"
        response = client.post("/login/otp", data={"code": code})
        assert response.status_code == 303, _words(response)
    assert not response.headers["Location"].startswith("/login")
    return client


def _second_step(app: Flask, login: str, code: str) -> Any:
    """Give the password, then `code` at the second step; return the code's answer."""
    client = app.test_client()
    assert Auth(client).login(login).headers["Location"] == "/login/otp"
    return client.post("/login/otp", data={"code": code})


def _signs_in_with(app: Flask, login: str, code: str) -> bool:
    response = _second_step(app, login, code)
    if response.status_code == 303 and not response.headers["Location"].startswith("/login"):
        return True
    assert response.status_code in (200, 400), response.status_code
    return False


def _b32_decode(shown: str) -> bytes:
    compact = shown.replace(" ", "")
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


@dataclass(frozen=True)
class ConnectPage:
    response: Any
    html: str
    token: str
    shown_secret: str
    secret: bytes
    uri: str


def _open_connect(client: FlaskClient, url: str = "/my/security/connect") -> ConnectPage:
    response = client.get(url)
    assert response.status_code == 200, response.headers.get("Location")
    page = response.get_data(as_text=True)
    token = CONNECTION_INPUT.search(page)
    shown = SECRET_SHOWN.search(page)
    link = OTPAUTH_LINK.search(page)
    assert token and shown and link, "the connect page lacks the token, secret or link"
    return ConnectPage(
        response=response,
        html=page,
        token=token.group(1),
        shown_secret=shown.group(1),
        secret=_b32_decode(shown.group(1)),
        uri=html.unescape(link.group(1)),
    )


def _phone_code(secret: bytes, at: datetime | None = None) -> str:
    """What an authenticator app shows, computed by pyotp on its own."""
    totp = pyotp.TOTP(base64.b32encode(secret).decode())
    return totp.now() if at is None else totp.at(at)


def _wrong_code(secret: bytes, kind: str = "totp") -> str:
    """A well-formed code that no nearby time step or counter of the secret produces."""
    params = otp.OtpParams(kind=kind)  # type: ignore[arg-type]
    if kind == "totp":
        current = otp.totp_step(params, utcnow())
        near = range(current - 15, current + 16)
    else:
        near = range(0, 30)
    taken = {otp.code_at_counter(secret, params, step) for step in near}
    return next(code for code in (f"{n:06d}" for n in range(0, 999_999, 7919)) if code not in taken)


def _device() -> OtpDevice | None:
    db.session.expire_all()
    return db.session.scalar(select(OtpDevice))


def _device_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(OtpDevice.id))) or 0


def _recovery_count(user_id: int, unused_only: bool = False) -> int:
    db.session.expire_all()
    statement = select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user_id)
    if unused_only:
        statement = statement.where(RecoveryCode.used_at.is_(None))
    return db.session.scalar(statement) or 0


def _reauth_location(response: Any) -> str:
    """Return the `next` of a redirect to /my/reauth (failing if it is not one)."""
    assert response.status_code in (302, 303), response.status_code
    location = urlsplit(response.headers["Location"])
    assert location.path == "/my/reauth"
    return parse_qs(location.query)["next"][0]


def _new_codes(response: Any) -> list[str]:
    block = RECOVERY_LIST.search(response.get_data(as_text=True))
    assert block, 'no <ol class="recovery-codes"> in the page'
    return RECOVERY_ITEM.findall(block.group(1))


def _state(client: FlaskClient) -> str:
    response = client.get("/my/security")
    assert response.status_code == 200
    return _words(response)


def _utc(value: datetime) -> str:
    """A time as _words shows it: its narrow no-break spaces are spaces there."""
    return " ".join(shown_time(value).split())


# --- the state in plain words ---------------------------------------------------------


def test_security_page_says_not_configured(employee_client: FlaskClient, two_step_on: Any) -> None:
    two_step_on()
    words = _state(employee_client)
    assert "Not configured." in words
    assert "Enabled" not in words
    page = employee_client.get("/my/security").get_data(as_text=True)
    assert 'href="/my/security/connect"' in page


def test_security_page_says_enabled_since_the_connection(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    client = _sign_in(app, "employee", totp_code())
    device = _device()
    assert device is not None
    words = _state(client)
    assert f"Enabled since {_utc(device.created_at)}." in words
    assert "Time-based codes (TOTP), mobile app" in words
    assert "Recovery codes left 10" in words


def test_security_page_says_disabled_until_a_date(
    app: Flask, employee: Any, admin: Any, two_step_on: Any, connect_device: Any
) -> None:
    settings = two_step_on()
    connect_device(employee)
    until = two_step.disable(employee, days=3, now=utcnow(), actor=admin, ip="t", settings=settings)
    db.session.commit()
    assert until is not None
    # While it is off, the password alone signs in.
    client = _sign_in(app, "employee")
    words = _state(client)
    assert f"Disabled until {_utc(until)}." in words
    assert "switches itself back on" in words


def test_security_page_says_locked_after_too_many_wrong_codes(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(max_attempts=5)
    connect_device(employee)
    client = _sign_in(app, "employee", totp_code())
    wrong = _wrong_code(RFC_SECRET)
    for _ in range(5):
        _second_step(app, "employee", wrong)
    response = client.get("/my/security")
    assert 'data-otp-status="locked"' in response.get_data(as_text=True)
    assert "The second step is locked after too many wrong codes" in _words(response)


def test_with_two_step_off_the_page_says_so_and_connect_redirects(
    employee_client: FlaskClient,
) -> None:
    assert "Two-step authentication is not enabled on this console" in _state(employee_client)
    for response in (
        employee_client.get("/my/security/connect"),
        employee_client.post("/my/security/connect", data={"code": "123456"}),
    ):
        assert response.status_code == 303
        assert response.headers["Location"] == "/my/security"
    shown = employee_client.get("/my/security")
    assert _shown(shown, message("otp.not_enabled_for_console"))
    assert _device_count() == 0


# --- connecting an app (TOTP, the default) --------------------------------------------


def test_connect_page_shows_qr_secret_link_and_server_time(
    employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on(issuer="Acme Intranet")
    before = utcnow()
    connect = _open_connect(employee_client)
    after = utcnow()
    assert SVG.search(connect.html)
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})*( [A-Z2-7]{1,3})?", connect.shown_secret)
    assert len(connect.secret) == 20
    # The link: TOTP, issuer from the settings in label and parameter, the secret first.
    parts = urlsplit(connect.uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Acme Intranet:employee"
    assert parts.query.startswith("secret=" + connect.shown_secret.replace(" ", "") + "&")
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Acme Intranet"]
    assert query["digits"] == ["6"] and query["period"] == ["30"]
    # The server's current time, so the user can compare it with the phone.
    clock = re.search(
        r'Time on the server: <time datetime="([0-9T:-]+Z)">[^<]*\(UTC\)</time>;',
        connect.response.get_data(as_text=True),
    )
    assert clock
    shown = datetime.fromisoformat(clock.group(1).replace("Z", "+00:00"))
    assert before.replace(microsecond=0) <= shown <= after
    assert connect.response.headers["Cache-Control"] == "no-store"


def test_every_visit_makes_a_fresh_secret_and_stores_nothing(
    employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on()
    first = _open_connect(employee_client)
    second = _open_connect(employee_client)
    assert first.secret != second.secret
    assert first.token != second.token
    assert _device_count() == 0
    assert "otp_connected" not in event_types("employee")


def test_a_correct_code_connects_and_shows_recovery_codes_once(
    app: Flask, employee_client: FlaskClient, employee: Any, two_step_on: Any
) -> None:
    two_step_on()
    connect = _open_connect(employee_client)
    response = employee_client.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": _phone_code(connect.secret)},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert _shown(response, message("otp.connected"))
    codes = _new_codes(response)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", code) for code in codes)
    page = response.get_data(as_text=True)
    save = SAVE_LINK.search(page)
    assert save and save.group(2).strip() == "Save to text file"
    saved = unquote(html.unescape(save.group(1)).split(",", 1)[1])
    assert saved == "".join(f"{n}. {code}\n" for n, code in enumerate(codes, 1))
    assert "data-print" in page

    device = _device()
    assert device is not None and device.user_id == employee.id
    assert device.kind == "totp" and device.enabled
    assert keys.secret_box().decrypt(device.secret_encrypted) == connect.secret
    assert _recovery_count(employee.id) == 10
    assert "otp_connected" in event_types("employee")
    # Shown once: the security page and the codes page no longer hold them.
    later = employee_client.get("/my/security").get_data(as_text=True)
    later += employee_client.get("/my/security/recovery-codes").get_data(as_text=True)
    assert not any(code in later for code in codes)
    assert "Enabled" in _state(employee_client)
    # The connected app's next code is what signing in asks for now.
    next_code = _phone_code(connect.secret, utcnow() + timedelta(seconds=30))
    assert _signs_in_with(app, "employee", next_code)


def test_the_database_never_holds_the_plain_secret(
    employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on()
    connect = _open_connect(employee_client)
    employee_client.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": _phone_code(connect.secret)},
    )
    assert _device_count() == 1
    base32 = base64.b32encode(connect.secret).decode()
    forms = {base32, base32.rstrip("="), base32.lower(), connect.shown_secret}
    forms |= {connect.secret.hex(), connect.secret.hex().upper()}
    [stored] = db.session.execute(text("SELECT secret_encrypted FROM otp_devices")).scalars()
    assert not any(form in stored for form in forms)
    everything = repr(
        [
            tuple(row)
            for table in db.metadata.sorted_tables
            for row in db.session.execute(table.select()).all()
        ]
    )
    assert not any(form in everything for form in forms)


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("WRONG", "otp.code_wrong"),
        ("12a456", "otp.code_malformed"),
        ("１２３４５６", "otp.code_malformed"),
        ("1234567", "otp.code_malformed"),
        ("12345", "otp.code_malformed"),
        ("1" * 500, "form.too_long"),
        ("", "form.required"),
    ],
)
def test_a_bad_code_is_refused_with_a_message_and_the_same_secret(
    employee_client: FlaskClient, two_step_on: Any, code: str, key: str
) -> None:
    two_step_on()
    connect = _open_connect(employee_client)
    typed = _wrong_code(connect.secret) if code == "WRONG" else code
    response = employee_client.post(
        "/my/security/connect", data={"connection": connect.token, "code": typed}
    )
    assert response.status_code == 400
    assert _shown(response, message(key, digits=6, max=20))
    # The user keeps the secret already scanned and may try again.
    assert connect.shown_secret in response.get_data(as_text=True)
    assert _device_count() == 0
    assert "otp_connected" not in event_types("employee")
    if key == "otp.code_wrong":
        assert "otp_connect_failed" in event_types("employee")


def test_a_missing_connection_token_starts_over(
    employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on()
    connect = _open_connect(employee_client)
    for data in ({"code": _phone_code(connect.secret)}, {"connection": "forged", "code": "1"}):
        response = employee_client.post("/my/security/connect", data=data)
        assert response.status_code == 303
        assert response.headers["Location"] == "/my/security/connect"
    assert _shown(employee_client.get("/my/security/connect"), message("otp.connection_expired"))
    assert _device_count() == 0


def test_an_expired_connection_token_is_refused_even_with_the_right_code(
    employee_client: FlaskClient, employee: Any, two_step_on: Any
) -> None:
    two_step_on()
    secret = otp.new_secret()
    old = utcnow() - timedelta(seconds=device_connection.CONNECTION_MAX_AGE + 60)
    token = device_connection.new_connection(employee, "totp", secret=secret).seal(old)
    response = employee_client.post(
        "/my/security/connect", data={"connection": token, "code": _phone_code(secret)}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/security/connect"
    fresh = employee_client.get(response.headers["Location"])
    assert fresh.status_code == 200
    assert _shown(fresh, message("otp.connection_expired"))
    assert _device_count() == 0
    # The same token sealed a minute ago would have worked: only its age is refused.
    recent = device_connection.new_connection(employee, "totp", secret=secret).seal(utcnow())
    response = employee_client.post(
        "/my/security/connect", data={"connection": recent, "code": _phone_code(secret)}
    )
    assert response.status_code == 200 and _device_count() == 1


def test_another_users_connection_token_is_refused(
    app: Flask,
    employee_client: FlaskClient,
    make_user: Any,
    two_step_on: Any,
) -> None:
    two_step_on()
    make_user("colleague")
    colleague = _sign_in(app, "colleague")
    theirs = _open_connect(colleague)
    response = employee_client.post(
        "/my/security/connect",
        data={"connection": theirs.token, "code": _phone_code(theirs.secret)},
    )
    assert response.status_code == 303
    assert _device_count() == 0


def test_a_phone_70_seconds_behind_connects_and_is_told_so(
    employee_client: FlaskClient, two_step_on: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_step_on()
    now = utcnow()
    # The page's clock is held still so the expected drift is exact.
    monkeypatch.setattr("blueprints.mypage.utcnow", lambda: now)
    connect = _open_connect(employee_client)
    behind = now - timedelta(seconds=70)
    response = employee_client.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": _phone_code(connect.secret, behind)},
    )
    assert response.status_code == 200
    params = otp.OtpParams(kind="totp")
    drift = otp.totp_step(params, behind) - otp.totp_step(params, now)
    offset = otp.describe_clock_offset(drift, 30)
    # TOTP knows the clock to a step: 70 s behind reads as 60 or 90 s.
    assert offset in (
        "your phone's clock is about 60 seconds behind",
        "your phone's clock is about 90 seconds behind",
    )
    assert _shown(response, message("otp.clock_off", offset=offset))
    device = _device()
    assert device is not None and device.drift == drift


def test_a_phone_with_the_right_time_is_not_warned(
    employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on()
    connect = _open_connect(employee_client)
    response = employee_client.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": _phone_code(connect.secret)},
    )
    assert response.status_code == 200
    assert "clock is about" not in _words(response)


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_connecting_without_the_csrf_token_changes_nothing(
    app: Flask, employee: Any, two_step_on: Any
) -> None:
    two_step_on()
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={
            "login": "employee",
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_token_from(login_page),
        },
    )
    connect = _open_connect(client)
    data = {"connection": connect.token, "code": _phone_code(connect.secret)}
    assert client.post("/my/security/connect", data=data).status_code == 400
    assert _device_count() == 0
    data["csrf_token"] = csrf_token_from(connect.html)
    assert client.post("/my/security/connect", data=data).status_code == 200
    assert _device_count() == 1


# --- HOTP as the default --------------------------------------------------------------


def test_hotp_asks_for_two_codes_and_connects_with_consecutive_ones(
    employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on(default_type="hotp")
    connect = _open_connect(employee_client)
    words = _words(connect.response)
    assert "First code" in words and "Second code" in words
    assert connect.uri.startswith("otpauth://hotp/")
    assert parse_qs(urlsplit(connect.uri).query)["counter"] == ["0"]
    hotp = pyotp.HOTP(base64.b32encode(connect.secret).decode())
    response = employee_client.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": hotp.at(0), "code2": hotp.at(1)},
    )
    assert response.status_code == 200
    assert len(_new_codes(response)) == 10
    device = _device()
    assert device is not None and device.kind == "hotp"
    # Both codes are spent: the next sign-in needs the third.
    assert device.counter == 2


@pytest.mark.parametrize("second", ["", "NOT_NEXT"])
def test_hotp_refuses_one_code_alone_or_two_that_do_not_follow(
    employee_client: FlaskClient, two_step_on: Any, second: str
) -> None:
    two_step_on(default_type="hotp")
    connect = _open_connect(employee_client)
    first = hotp_code(0, connect.secret)
    code2 = hotp_code(5, connect.secret) if second == "NOT_NEXT" else second
    response = employee_client.post(
        "/my/security/connect", data={"connection": connect.token, "code": first, "code2": code2}
    )
    assert response.status_code == 400
    expected = message("otp.codes_wrong") if second else message("otp.code_malformed", digits=6)
    assert _shown(response, expected)
    assert _device_count() == 0


# --- "My mobile device has changed" ---------------------------------------------------


def test_reconnecting_needs_a_recent_sign_in_and_wipes_what_the_old_device_had(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(allow_remember=True)
    old_codes = connect_device(employee)
    browser = _sign_in(app, "employee", totp_code())
    other_browser = _sign_in(app, "employee", old_codes[0])
    remembered_computers.remember_computer(
        employee, now=utcnow(), ip="t", user_agent="Old laptop", days=30
    )
    db.session.commit()
    old = _device()
    assert old is not None
    old_secret = old.secret_encrypted

    make_sign_in_stale(employee.id)
    assert _reauth_location(browser.get("/my/security/connect")) == "/my/security/connect"
    refused = browser.post("/my/security/connect", data={"code": totp_code()})
    assert _reauth_location(refused) == "/my/security/connect"

    reauth = browser.get("/my/reauth?next=/my/security/connect")
    assert reauth.status_code == 200
    wrong = browser.post(
        "/my/reauth", data={"password": "not my password", "next": "/my/security/connect"}
    )
    assert wrong.status_code == 400
    assert _shown(wrong, message("mypage.current_password_wrong"))
    assert _reauth_location(browser.get("/my/security/connect"))
    right = browser.post(
        "/my/reauth", data={"password": DEFAULT_PASSWORD, "next": "/my/security/connect"}
    )
    assert right.status_code == 303
    assert right.headers["Location"] == "/my/security/connect"
    # The page it returns to is always one of ours.
    away = browser.post(
        "/my/reauth", data={"password": DEFAULT_PASSWORD, "next": "//evil.example/x"}
    )
    assert away.headers["Location"] == "/my/security"

    connect = _open_connect(browser)
    assert "My mobile device has changed" in _words(connect.response)
    # Nothing is replaced before the new app proves it has the secret.
    still = _device()
    assert still is not None and still.secret_encrypted == old_secret
    response = browser.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": _phone_code(connect.secret)},
    )
    assert response.status_code == 200
    new_codes = _new_codes(response)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)

    device = _device()
    assert device is not None
    assert keys.secret_box().decrypt(device.secret_encrypted) == connect.secret
    assert _recovery_count(employee.id) == 10
    assert db.session.scalar(select(func.count(RememberedComputer.id))) == 0
    # The other browser is signed out; this one stays.
    assert other_browser.get("/my/").headers["Location"].startswith("/login")
    assert browser.get("/my/").status_code == 200
    # The old device's codes and recovery codes are dead; the new ones work.
    assert not _signs_in_with(app, "employee", old_codes[1])
    assert not _signs_in_with(app, "employee", totp_code(at=utcnow() + timedelta(seconds=30)))
    assert _signs_in_with(app, "employee", new_codes[0])
    assert event_types("employee").count("otp_connected") == 2


def test_a_first_connection_needs_a_recent_sign_in(
    app: Flask, employee: Any, employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on()
    make_sign_in_stale(employee.id)
    # A session left open (or stolen) cannot bind someone else's authenticator.
    assert _reauth_location(employee_client.get("/my/security/connect")) == "/my/security/connect"
    refused = employee_client.post(
        "/my/security/connect", data={"connection": "x", "code": totp_code()}
    )
    assert _reauth_location(refused) == "/my/security/connect"
    assert _device_count() == 0 and _recovery_count(employee.id) == 0

    right = employee_client.post(
        "/my/reauth", data={"password": DEFAULT_PASSWORD, "next": "/my/security/connect"}
    )
    assert right.headers["Location"] == "/my/security/connect"
    connect = _open_connect(employee_client)
    response = employee_client.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": _phone_code(connect.secret)},
    )
    assert response.status_code == 200
    assert len(_new_codes(response)) == 10
    assert _device_count() == 1


# --- disabling and enabling -----------------------------------------------------------


def test_disabling_needs_a_recent_sign_in_then_enable_switches_it_back(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    codes = connect_device(employee)
    browser = _sign_in(app, "employee", totp_code())
    other_browser = _sign_in(app, "employee", codes[0])
    make_sign_in_stale(employee.id)
    assert _reauth_location(browser.post("/my/security/disable")) == "/my/security"
    device = _device()
    assert device is not None and device.enabled

    browser.post("/my/reauth", data={"password": DEFAULT_PASSWORD, "next": "/my/security"})
    response = browser.post("/my/security/disable")
    assert response.status_code == 303 and response.headers["Location"] == "/my/security"
    words = _state(browser)
    assert "Disabled until it is enabled again." in words
    device = _device()
    assert device is not None and not device.enabled
    assert "otp_disabled" in event_types("employee")
    # Other sessions end; this one stays.
    assert other_browser.get("/my/").headers["Location"].startswith("/login")
    assert browser.get("/my/").status_code == 200
    # Signing in now asks only for the password.
    assert Auth(app.test_client()).login("employee").headers["Location"] == "/my/"

    response = browser.post("/my/security/enable")
    assert response.status_code == 303
    assert _shown(browser.get("/my/security"), message("otp.reenabled"))
    assert "Enabled since" in _state(browser)
    device = _device()
    assert device is not None and device.enabled
    assert "otp_reenabled" in event_types("employee")
    assert Auth(app.test_client()).login("employee").headers["Location"] == "/login/otp"


def test_disabling_is_refused_while_two_step_is_mandatory(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(mandatory=True, mandatory_groups=EMPLOYEES)
    connect_device(employee)
    browser = _sign_in(app, "employee", totp_code())
    words = _state(browser)
    assert "mandatory for your account, so it cannot be disabled" in words
    response = browser.post("/my/security/disable")
    assert response.status_code == 403
    assert _shown(response, message("otp.mandatory_no_disable"))
    device = _device()
    assert device is not None and device.enabled
    from models import Event

    refused = db.session.scalars(
        select(Event).where(Event.type == "otp_disabled", Event.subject_login == "employee")
    ).all()
    assert [event.outcome for event in refused] == ["refused"]
    assert browser.get("/my/").status_code == 200  # the refusal signs nobody out


# --- recovery codes -------------------------------------------------------------------


def test_recovery_codes_page_shows_how_many_are_left_and_when_each_was_used(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    codes = connect_device(employee)
    browser = app.test_client()
    Auth(browser).login("employee")
    signed = browser.post("/login/otp", data={"code": codes[2]})
    assert signed.status_code == 303
    assert _shown(browser.get("/my/"), message("otp.recovery_used", left=9))
    used_at = db.session.scalar(select(RecoveryCode.used_at).where(RecoveryCode.position == 3))
    assert used_at is not None

    response = browser.get("/my/security/recovery-codes")
    assert response.status_code == 200
    words = _words(response)
    assert "9 of 10 recovery codes are left." in words
    assert f"No. 3 {_utc(used_at)}" in words
    assert words.count("Not used") == 9
    assert not any(code in response.get_data(as_text=True) for code in codes)
    assert "Recovery codes left 9" in _state(browser)


def test_new_recovery_codes_need_a_recent_sign_in_and_replace_the_old_set(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    old_codes = connect_device(employee)
    browser = _sign_in(app, "employee", totp_code())
    old_digests = set(db.session.scalars(select(RecoveryCode.digest)))

    make_sign_in_stale(employee.id)
    assert _reauth_location(browser.post("/my/security/recovery-codes")) == "/my/security"
    db.session.expire_all()
    assert set(db.session.scalars(select(RecoveryCode.digest))) == old_digests

    browser.post("/my/reauth", data={"password": DEFAULT_PASSWORD, "next": "/my/security"})
    response = browser.post("/my/security/recovery-codes")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new_codes = _new_codes(response)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert 'download="recovery_codes.txt"' in response.get_data(as_text=True)
    assert "recovery_codes_generated" in event_types("employee")

    # Shown once: afterwards only the count.
    later = browser.get("/my/security/recovery-codes")
    assert "10 of 10 recovery codes are left." in _words(later)
    assert not any(code in later.get_data(as_text=True) for code in new_codes)
    # The old set stops working, the new one works.
    assert not _signs_in_with(app, "employee", old_codes[0])
    assert _signs_in_with(app, "employee", new_codes[0])
    assert _recovery_count(employee.id, unused_only=True) == 9


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.upper(),
        lambda code: code.replace("-", ""),
        lambda code: " ".join(code.replace("-", "")),
        lambda code: f"  {code[:3].upper()} {code[3:5]}--{code[6:].upper()} ",
    ],
    ids=["upper", "no-dash", "spaced", "mixed"],
)
def test_recovery_codes_are_accepted_with_any_case_spaces_or_dashes(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any, typed: Any
) -> None:
    two_step_on()
    codes = connect_device(employee)
    assert _signs_in_with(app, "employee", typed(codes[4]))
    assert _recovery_count(employee.id, unused_only=True) == 9
    # And only once.
    assert not _signs_in_with(app, "employee", codes[4])


def test_recovery_codes_page_redirects_when_they_are_not_allowed(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(allow_recovery_codes=False)
    connect_device(employee)
    browser = _sign_in(app, "employee", totp_code())
    assert "Recovery codes" not in _state(browser)
    for response in (
        browser.get("/my/security/recovery-codes"),
        browser.post("/my/security/recovery-codes"),
    ):
        assert response.status_code == 303
        assert response.headers["Location"] == "/my/security"
    assert _shown(browser.get("/my/security"), message("otp.recovery_not_allowed"))
    assert _recovery_count(employee.id) == 0
    assert "recovery_codes_generated" not in event_types("employee")


def test_recovery_codes_page_without_a_device_redirects(
    employee_client: FlaskClient, two_step_on: Any
) -> None:
    two_step_on()
    response = employee_client.get("/my/security/recovery-codes")
    assert response.status_code == 303 and response.headers["Location"] == "/my/security"
    assert _shown(employee_client.get("/my/security"), message("otp.no_device"))


# --- remembered computers -------------------------------------------------------------


def test_forget_all_remembered_computers(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(allow_remember=True)
    connect_device(employee)
    browser = _sign_in(app, "employee", totp_code())
    token, _ = remembered_computers.remember_computer(
        employee, now=utcnow(), ip="192.0.2.7", user_agent="Firefox on the old laptop", days=30
    )
    db.session.commit()
    words = _state(browser)
    assert "Firefox on the old laptop" in words and "192.0.2.7" in words

    response = browser.post("/my/security/devices/forget")
    assert response.status_code == 303 and response.headers["Location"] == "/my/security"
    after = browser.get("/my/security")
    assert _shown(after, message("otp.computers_forgotten"))
    assert "Firefox on the old laptop" not in _words(after)
    assert "No computer is remembered." in _words(after)
    assert db.session.scalar(select(func.count(RememberedComputer.id))) == 0
    assert not remembered_computers.is_remembered(employee, token, now=utcnow())
    assert "remembered_devices_forgotten" in event_types("employee")


# --- the grace banner -----------------------------------------------------------------


def test_grace_banner_on_every_page_until_put_off_but_not_in_the_last_day(
    app: Flask, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    browser = _sign_in(app, "employee")
    deadline = db.session.scalar(
        select(TwoStepAccount.grace_deadline).where(TwoStepAccount.user_id == employee.id)
    )
    assert deadline is not None
    assert timedelta(days=9, hours=23) < deadline - utcnow() <= timedelta(days=10)
    banner = message("otp.grace_banner", deadline=_utc(deadline))
    for path in ("/my/", "/my/security"):
        page = browser.get(path)
        assert _shown(page, banner), path
        assert re.search(
            r'class="grace-banner".*?<a [^>]*href="/my/security/connect"[^>]*>Connect</a>',
            page.get_data(as_text=True),
            re.S,
        )
        assert "Remind me later" in _words(page)

    put_off = browser.post("/my/security/banner/dismiss", data={"next": "/my/security"})
    assert put_off.status_code == 303 and put_off.headers["Location"] == "/my/security"
    for path in ("/my/", "/my/security"):
        assert not _shown(browser.get(path), banner), path

    last_day = utcnow() + timedelta(hours=12)
    db.session.execute(
        update(TwoStepAccount)
        .where(TwoStepAccount.user_id == employee.id)
        .values(grace_deadline=last_day)
    )
    db.session.commit()
    page = browser.get("/my/")
    assert _shown(page, message("otp.grace_banner", deadline=_utc(last_day)))
    assert "Remind me later" not in _words(page)
    # Even putting it off again does not hide it in the last day.
    browser.post("/my/security/banner/dismiss", data={"next": "/my/"})
    assert _shown(browser.get("/my/"), message("otp.grace_banner", deadline=_utc(last_day)))


def test_no_grace_banner_once_connected(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    browser = _sign_in(app, "employee")
    assert "grace-banner" in browser.get("/my/").get_data(as_text=True)
    connect = _open_connect(browser)
    browser.post(
        "/my/security/connect",
        data={"connection": connect.token, "code": _phone_code(connect.secret)},
    )
    assert "grace-banner" not in browser.get("/my/").get_data(as_text=True)


# --- an independent QR decoder and OTP implementation ---------------------------------


def test_the_qr_code_decodes_to_the_link_on_the_page(
    employee_client: FlaskClient, two_step_on: Any, tmp_path: Path
) -> None:
    if not (shutil.which("zbarimg") and shutil.which("rsvg-convert")):
        pytest.skip("zbarimg and rsvg-convert are needed (Debian: zbar-tools, librsvg2-bin)")
    two_step_on(issuer="Acme & Sons")
    connect = _open_connect(employee_client)
    svg = SVG.search(connect.html)
    assert svg
    source = tmp_path / "qr.svg"
    source.write_text(svg.group(0), encoding="utf-8")
    image = tmp_path / "qr.png"
    subprocess.run(  # noqa: S603 - fixed tool, our own file
        ["rsvg-convert", "-w", "600", "-h", "600", "-o", str(image), str(source)],  # noqa: S607
        check=True,
        timeout=30,
    )
    decoded = subprocess.run(  # noqa: S603
        ["zbarimg", "--quiet", "--raw", str(image)],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert decoded.stdout.strip() == connect.uri
    assert "issuer=Acme%20%26%20Sons" in connect.uri


def test_a_code_from_oathtool_connects(employee_client: FlaskClient, two_step_on: Any) -> None:
    if not shutil.which("oathtool"):
        pytest.skip("oathtool is needed (Debian: oathtool)")
    two_step_on()
    connect = _open_connect(employee_client)
    produced = subprocess.run(  # noqa: S603
        ["oathtool", "--totp", "-b", connect.shown_secret.replace(" ", "")],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    code = produced.stdout.strip()
    assert re.fullmatch(r"\d{6}", code)
    response = employee_client.post(
        "/my/security/connect", data={"connection": connect.token, "code": code}
    )
    assert response.status_code == 200
    assert len(_new_codes(response)) == 10
    assert _device_count() == 1


# --- nobody reaches another user's device from My page --------------------------------


def test_my_page_security_urls_carry_no_user_or_device_id(app: Flask) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/my/security")]
    assert rules
    # One exception, by the contract: an application password is named by its number, and
    # only the signed-in person's own are found (test_app_passwords.py).
    assert all(
        not rule.arguments
        or (rule.arguments == {"password_id"} and rule.rule.startswith("/my/security/app-"))
        for rule in rules
    )


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("otp/disable", {"days": "0"}),
        ("otp/delete", {}),
        ("otp/enable", {}),
        ("otp/unlock", {}),
        ("otp/defer", {"days": "30"}),
        ("otp/sync", {"code": "123456", "code2": "654321"}),
        ("otp/connect", {"source": "mobile", "type": "totp", "code": "123456"}),
        ("recovery-codes", {}),
    ],
)
def test_an_employee_cannot_act_on_another_users_device(
    app: Flask,
    employee_client: FlaskClient,
    make_user: Any,
    two_step_on: Any,
    connect_device: Any,
    action: str,
    data: dict[str, str],
) -> None:
    two_step_on()
    colleague = make_user("colleague")
    connect_device(colleague)

    def state() -> tuple[Any, ...]:
        db.session.expire_all()
        device = db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == colleague.id))
        assert device is not None
        digests = sorted(
            db.session.scalars(
                select(RecoveryCode.digest).where(RecoveryCode.user_id == colleague.id)
            )
        )
        return (device.id, device.enabled, device.secret_encrypted, device.last_step, digests)

    before = state()
    response = employee_client.post(f"/admin/users/{colleague.id}/{action}", data=data)
    assert response.status_code == 403
    assert state() == before
    assert "access_denied" in event_types()
    assert db.session.get(User, colleague.id) is not None
