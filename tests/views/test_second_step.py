"""The second sign-in step: pending state, codes, replay, locks, remembered computers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from extensions import db
from models import OtpDevice, RecoveryCode, TwoStepAccount, utcnow
from security import two_step
from security.messages import message
from tests.support import DEFAULT_PASSWORD, event_types, hotp_code, session_cookie, totp_code


@pytest.fixture
def pending(client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any) -> Any:
    """An employee with a TOTP device whose password was just accepted."""
    two_step_on()
    connect_device(employee)
    response = auth.login("employee")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/otp"
    return employee


def test_password_alone_does_not_sign_in_when_a_device_is_active(pending: Any, client: Any) -> None:
    page = client.get("/login/otp")
    assert page.status_code == 200
    assert "Please enter your one-time password." in page.get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_user_id" not in session
        assert "sid" not in session
        assert set(session["pending"]) == {"token", "state", "until", "remember", "next"}


def test_no_page_is_reachable_while_the_second_step_is_pending(
    pending: Any, app: Any, client: Any
) -> None:
    allowed = {
        "auth.login",
        "auth.login_otp",
        "auth.login_cancel",
        "auth.logout",
        "auth.choose_language",  # sets only the visitor's language cookie
        "static",
        "health.healthz",
        "health.readyz",
        "metrics.scrape",  # Prometheus' scrape: a token or this computer, no sign-in
    }
    swept = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in allowed:
            continue
        path = rule.build({name: 1 for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            if path.startswith("/api/v1/"):
                # The API reads no session: a half-signed-in cookie is no key (401); only
                # its description is public.
                assert response.status_code in (200, 401), (method, path)
                assert response.status_code == 401 or "openapi" in path or "docs" in path
                continue
            assert response.status_code == 302, (method, path, response.status_code)
            assert response.headers["Location"] == "/login/otp", (method, path)
            swept += 1
    assert swept > 20
    # Nothing changed while half signed in.
    assert "sign_in" not in event_types("employee")


def test_the_pending_state_expires_after_five_minutes(pending: Any, client: Any) -> None:
    with client.session_transaction() as session:
        session["pending"] = {**session["pending"], "until": utcnow().timestamp() - 1}
    response = client.post("/login/otp", data={"code": totp_code()})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/my/").status_code == 302
    assert "sign_in" not in event_types("employee")


def test_right_code_signs_in_with_a_renewed_session(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    client.get("/login")
    before = session_cookie(client)
    auth.login("employee")
    after_password = session_cookie(client)
    response = client.post("/login/otp", data={"code": totp_code()})
    after_code = session_cookie(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/"
    assert len({before, after_password, after_code}) == 3
    assert client.get("/my/").status_code == 200
    assert {"otp_code_accepted", "sign_in"} <= set(event_types("employee"))


def test_spaces_in_the_code_are_accepted(pending: Any, client: Any) -> None:
    code = totp_code()
    response = client.post("/login/otp", data={"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 303


def test_a_used_totp_step_and_an_earlier_one_are_refused(
    pending: Any, client: Any, auth: Any
) -> None:
    code = totp_code()
    assert client.post("/login/otp", data={"code": code}).status_code == 303
    auth.logout()
    auth.login("employee")
    replay = client.post("/login/otp", data={"code": code})
    assert replay.status_code == 200
    assert message("otp.code_incorrect") in replay.get_data(as_text=True)
    earlier = client.post(
        "/login/otp", data={"code": totp_code(at=utcnow() - timedelta(seconds=30))}
    )
    assert message("otp.code_incorrect") in earlier.get_data(as_text=True)
    assert client.get("/my/").status_code == 302


def test_hotp_codes_behind_the_counter_are_refused(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(default_type="hotp")
    connect_device(employee, kind="hotp")  # counters 0 and 1 spent
    auth.login("employee")
    assert message("otp.code_incorrect") in client.post(
        "/login/otp", data={"code": hotp_code(1)}
    ).get_data(as_text=True)
    # Within the look-ahead window: counter 5 works and moves the counter to 6.
    assert client.post("/login/otp", data={"code": hotp_code(5)}).status_code == 303
    assert db.session.scalar(select(OtpDevice.counter)) == 6
    auth.logout()
    auth.login("employee")
    response = client.post("/login/otp", data={"code": hotp_code(4)})
    assert message("otp.code_incorrect") in response.get_data(as_text=True)


@pytest.mark.parametrize("bad", ["abcdef", "12345", "1234567", "12-34-56", "1" * 40])
def test_malformed_codes_get_a_message_and_do_not_count(
    pending: Any, client: Any, bad: str
) -> None:
    response = client.post("/login/otp", data={"code": bad})
    assert response.status_code == 400
    assert message("otp.sign_in_code_malformed") in response.get_data(as_text=True)
    assert db.session.scalar(select(TwoStepAccount.failed_attempts)) in (0, None)


def test_five_wrong_codes_lock_the_step_even_for_the_right_code(pending: Any, client: Any) -> None:
    wrong = f"{(int(totp_code()) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert client.post("/login/otp", data={"code": wrong}).status_code == 200
    locked = client.post("/login/otp", data={"code": wrong})
    assert locked.status_code == 429
    assert "Too many attempts; try again after" in locked.get_data(as_text=True)
    right = client.post("/login/otp", data={"code": totp_code()})
    assert right.status_code == 429
    assert "Too many attempts; try again after" in right.get_data(as_text=True)
    assert "otp_locked" in event_types("employee")
    assert client.get("/my/").status_code == 302


def test_a_lock_lifts_when_its_time_has_passed(pending: Any, client: Any) -> None:
    db.session.execute(update(TwoStepAccount).values(locked_until=utcnow() + timedelta(minutes=15)))
    db.session.commit()
    assert client.post("/login/otp", data={"code": totp_code()}).status_code == 429
    db.session.execute(update(TwoStepAccount).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.post("/login/otp", data={"code": totp_code()}).status_code == 303


def test_an_administrator_unlock_lifts_the_lock(pending: Any, client: Any, admin: Any) -> None:
    db.session.execute(update(TwoStepAccount).values(locked_until=utcnow() + timedelta(minutes=15)))
    db.session.commit()
    two_step.unlock(pending, now=utcnow(), actor=admin, ip="test")
    db.session.commit()
    assert client.post("/login/otp", data={"code": totp_code()}).status_code == 303
    assert "otp_unlocked" in event_types("employee")


def test_failures_count_across_sessions(app: Any, pending: Any, client: Any) -> None:
    other = app.test_client()
    other.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    wrong = f"{(int(totp_code()) + 7) % 1_000_000:06d}"
    for browser in (client, other, client, other):
        browser.post("/login/otp", data={"code": wrong})
    assert other.post("/login/otp", data={"code": wrong}).status_code == 429


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    codes = connect_device(employee)
    auth.login("employee")
    response = client.post("/login/otp", data={"code": codes[0].upper()}, follow_redirects=True)
    assert response.status_code == 200
    assert message("otp.recovery_used", left=9) in response.get_data(as_text=True)
    row = db.session.scalar(select(RecoveryCode).where(RecoveryCode.position == 1))
    assert row is not None and row.used_at is not None and row.used_ip
    auth.logout()
    auth.login("employee")
    again = client.post("/login/otp", data={"code": codes[0]})
    assert message("otp.code_incorrect") in again.get_data(as_text=True)
    assert "recovery_code_used" in event_types("employee")


def test_few_recovery_codes_left_urges_new_ones(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    codes = connect_device(employee)
    db.session.execute(
        update(RecoveryCode).where(RecoveryCode.position > 3).values(used_at=utcnow())
    )
    db.session.commit()
    auth.login("employee")
    response = client.post("/login/otp", data={"code": codes[0]}, follow_redirects=True)
    assert message("otp.recovery_low", left=2) in response.get_data(as_text=True)


def test_back_to_the_sign_in_screen_abandons_the_pending_state(pending: Any, client: Any) -> None:
    assert client.post("/login/cancel").status_code == 303
    response = client.post("/login/otp", data={"code": totp_code()})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_a_disabled_device_asks_for_no_code_and_a_temporary_disable_ends_by_itself(
    client: Any, auth: Any, employee: Any, admin: Any, two_step_on: Any, connect_device: Any
) -> None:
    settings = two_step_on()
    connect_device(employee)
    two_step.disable(employee, days=1, now=utcnow(), actor=admin, ip="test", settings=settings)
    db.session.commit()
    assert auth.login("employee").headers["Location"] == "/my/"
    auth.logout()
    db.session.execute(update(OtpDevice).values(disabled_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert auth.login("employee").headers["Location"] == "/login/otp"


def test_two_step_off_for_the_console_asks_for_no_code(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    settings = two_step_on()
    connect_device(employee)
    settings.enabled = False
    db.session.commit()
    assert auth.login("employee").headers["Location"] == "/my/"


# --- remember this computer --------------------------------------------------------------


def _sign_in_remembering(client: Any, auth: Any, code: str) -> Any:
    auth.login("employee")
    return client.post("/login/otp", data={"code": code, "remember_device": "y"})


def test_a_remembered_computer_skips_the_code_for_its_user_only(
    app: Any,
    client: Any,
    auth: Any,
    employee: Any,
    make_user: Any,
    two_step_on: Any,
    connect_device: Any,
) -> None:
    two_step_on(allow_remember=True)
    connect_device(employee)
    other_user = make_user("colleague")
    connect_device(other_user)
    response = _sign_in_remembering(client, auth, totp_code())
    cookie = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookie if c.startswith("otp_remembered=")]
    assert remember and "HttpOnly" in remember[0]
    auth.logout()
    assert auth.login("employee").headers["Location"] == "/my/"
    auth.logout()
    # The same browser, another user: the code is still asked for.
    assert auth.login("colleague").headers["Location"] == "/login/otp"
    # Another browser without the cookie: asked too.
    other = app.test_client()
    other.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    assert other.get("/my/").headers["Location"] == "/login/otp"
    assert "device_remembered" in event_types("employee")


def test_forgotten_computers_ask_for_the_code_again(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(allow_remember=True)
    connect_device(employee)
    _sign_in_remembering(client, auth, totp_code())
    assert client.post("/my/security/devices/forget").status_code == 303
    auth.logout()
    assert auth.login("employee").headers["Location"] == "/login/otp"


def test_a_recovery_code_never_remembers_a_computer(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(allow_remember=True)
    codes = connect_device(employee)
    response = _sign_in_remembering(client, auth, codes[0])
    assert response.status_code == 303
    assert not any(c.startswith("otp_remembered=") for c in response.headers.getlist("Set-Cookie"))


def test_remembering_needs_the_setting(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(allow_remember=False)
    connect_device(employee)
    auth.login("employee")
    assert "remember_device" not in client.get("/login/otp").get_data(as_text=True)
    response = client.post("/login/otp", data={"code": totp_code(), "remember_device": "y"})
    assert not any(c.startswith("otp_remembered=") for c in response.headers.getlist("Set-Cookie"))


def test_a_password_change_forgets_remembered_computers(
    client: Any, auth: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(allow_remember=True)
    connect_device(employee)
    _sign_in_remembering(client, auth, totp_code())
    new_password = "a brand new password"
    response = client.post(
        "/my/security/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": new_password,
            "new_password_confirm": new_password,
        },
    )
    assert response.status_code == 303
    auth.logout()
    assert auth.login("employee", new_password).headers["Location"] == "/login/otp"


def test_the_count_of_failures_stays_visible_while_locked_and_starts_over_after(
    pending: Any, client: Any
) -> None:
    wrong = f"{(int(totp_code()) + 3) % 1_000_000:06d}"
    for _ in range(5):
        client.post("/login/otp", data={"code": wrong})
    account = db.session.scalar(select(TwoStepAccount))
    assert account is not None and account.locked_until is not None
    assert account.failed_attempts == 5
    db.session.execute(update(TwoStepAccount).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    # One failure after the lock has ended does not lock again at once.
    assert client.post("/login/otp", data={"code": wrong}).status_code == 200
    db.session.expire_all()
    account = db.session.scalar(select(TwoStepAccount))
    assert account is not None and account.failed_attempts == 1 and account.locked_until is None


@pytest.mark.parametrize("path", ["/login/otp", "/login/connect"])
def test_opening_a_sign_in_step_when_signed_in_keeps_the_session(
    employee_client: Any, path: str
) -> None:
    # A bookmark or a link from another site must not sign a person out with a GET.
    response = employee_client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/"
    assert employee_client.get("/my/").status_code == 200
