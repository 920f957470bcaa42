"""The helpdesk's temporary code for a lost device: issued once, signs in until it ends."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from extensions import db
from models import Notice, RememberedComputer, TemporaryCode, TwoStepAccount, utcnow
from security import temporary_codes
from security.messages import message
from tests.support import (
    DEFAULT_PASSWORD,
    events_of,
    make_sign_in_stale,
    shown_time,
    snapshot,
    totp_code,
    without_events,
)

CODE_SHOWN = re.compile(
    r'<code class="temporary-code">([a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5})</code>'
)
WRONG_CODE = "aaaaa-bbbbb-ccccc"


# --- helpers -----------------------------------------------------------------------------


def _text(response: Any) -> str:
    """The page as a person reads it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def _issue(client: FlaskClient, user: Any, hours: str = "8") -> Any:
    return client.post(f"/admin/users/{user.id}/otp/temporary-code", data={"hours": hours})


def _issued_code(client: FlaskClient, user: Any, hours: str = "8") -> str:
    response = _issue(client, user, hours)
    assert response.status_code == 200
    match = CODE_SHOWN.search(response.get_data(as_text=True))
    assert match, "the code is not shown"
    return match.group(1)


def _row(user: Any) -> TemporaryCode | None:
    db.session.expire_all()
    return db.session.get(TemporaryCode, user.id)


def _sign_in_with(app: Flask, code: str, **extra: str) -> tuple[FlaskClient, Any]:
    """A fresh browser: the employee's password, then `code` at the second step."""
    client = app.test_client()
    response = client.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/login/otp"
    return client, client.post("/login/otp", data={"code": code, **extra})


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/my/").status_code == 200


@pytest.fixture
def on(two_step_on: Any) -> Any:
    return two_step_on()


@pytest.fixture
def with_device(on: Any, employee: Any, connect_device: Any) -> Any:
    """The employee, with a TOTP device connected (the one left at home)."""
    connect_device(employee)
    return employee


# --- issuing -----------------------------------------------------------------------------


def test_issuing_shows_the_code_once_and_stores_only_a_keyed_digest(
    with_device: Any, admin_client: FlaskClient, admin: Any
) -> None:
    employee = with_device
    response = _issue(admin_client, employee)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    code = CODE_SHOWN.search(response.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    compact = code.replace("-", "")
    # The database holds neither form of the code anywhere, only a digest of it.
    stored = repr(snapshot())
    assert code not in stored and compact not in stored
    row = _row(employee)
    assert row is not None and len(row.digest) == 64
    assert timedelta(hours=7, minutes=59) < row.expires_at - utcnow() <= timedelta(hours=8)
    # On record, who and for how long, never the code.
    [issued] = events_of("temporary_code_issued")
    assert (issued.actor_login, issued.subject_login) == ("admin", "employee")
    assert "hours=8" in issued.details and compact not in issued.details
    # Shown once: the tab afterwards says a code is active, never what it is.
    tab = admin_client.get(f"/admin/users/{employee.id}?tab=otp")
    assert code not in tab.get_data(as_text=True)
    assert 'class="temporary-code"' not in tab.get_data(as_text=True)


def test_a_new_code_replaces_the_earlier_one(
    app: Flask, with_device: Any, admin_client: FlaskClient
) -> None:
    first = _issued_code(admin_client, with_device)
    second = _issued_code(admin_client, with_device)
    assert first != second
    _client, refused = _sign_in_with(app, first)
    assert refused.status_code == 200
    client, accepted = _sign_in_with(app, second)
    assert accepted.status_code == 303 and _signed_in(client)


# --- signing in with it ------------------------------------------------------------------


def test_the_code_signs_in_again_and_again_until_it_expires(
    app: Flask, with_device: Any, admin_client: FlaskClient
) -> None:
    employee = with_device
    code = _issued_code(admin_client, employee, hours="2")
    # Typed as people type codes: any case, spaces, no dashes.
    client, response = _sign_in_with(app, f" {code.upper().replace('-', ' ')} ")
    assert response.status_code == 303
    assert _signed_in(client)
    assert len(events_of("temporary_code_used")) == 1
    assert "method=temporary_code" in events_of("sign_in")[-1].details
    # Not spent by the first use.
    client, response = _sign_in_with(app, code)
    assert response.status_code == 303 and _signed_in(client)
    # Its end, to the second, in the domain's own time.
    until = _row(employee).expires_at  # type: ignore[union-attr]
    assert temporary_codes.use_code(employee, code, now=until - timedelta(seconds=1)) == until
    assert temporary_codes.use_code(employee, code, now=until) is None
    db.session.rollback()
    # Time passes: the code stops working by itself.
    db.session.execute(update(TemporaryCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    client, response = _sign_in_with(app, code)
    assert response.status_code == 200
    assert message("otp.code_incorrect") in _text(response)
    assert not _signed_in(client)


def test_a_revoked_code_no_longer_signs_in(
    app: Flask, with_device: Any, admin_client: FlaskClient
) -> None:
    employee = with_device
    code = _issued_code(admin_client, employee)
    response = admin_client.post(f"/admin/users/{employee.id}/otp/temporary-code/revoke")
    assert response.status_code == 303
    assert message("otp.temporary_code_revoked") in _text(admin_client.get(response.location))
    assert _row(employee) is None
    assert len(events_of("temporary_code_revoked")) == 1
    client, response = _sign_in_with(app, code)
    assert response.status_code == 200 and not _signed_in(client)
    # Nothing left to revoke: said so, nothing recorded.
    again = admin_client.post(f"/admin/users/{employee.id}/otp/temporary-code/revoke")
    assert message("otp.temporary_code_none") in _text(admin_client.get(again.location))
    assert len(events_of("temporary_code_revoked")) == 1


def test_connecting_a_new_device_ends_the_code(
    app: Flask, with_device: Any, admin_client: FlaskClient, connect_device: Any
) -> None:
    employee = with_device
    code = _issued_code(admin_client, employee)
    connect_device(employee, "hotp")  # the phone was found, or replaced
    assert _row(employee) is None
    client, response = _sign_in_with(app, code)
    assert response.status_code == 200 and not _signed_in(client)


def test_removing_the_device_ends_the_code(
    app: Flask, with_device: Any, admin_client: FlaskClient
) -> None:
    employee = with_device
    _issued_code(admin_client, employee)
    assert admin_client.post(f"/admin/users/{employee.id}/otp/delete").status_code == 303
    assert _row(employee) is None


def test_wrong_codes_count_toward_the_lock_and_the_lock_holds_for_the_right_code(
    app: Flask, with_device: Any, admin_client: FlaskClient
) -> None:
    code = _issued_code(admin_client, with_device)
    client = app.test_client()
    client.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    for _ in range(4):
        assert client.post("/login/otp", data={"code": WRONG_CODE}).status_code == 200
    assert client.post("/login/otp", data={"code": WRONG_CODE}).status_code == 429
    locked = client.post("/login/otp", data={"code": code})
    assert locked.status_code == 429
    assert len(events_of("otp_locked")) == 1
    assert not _signed_in(client)
    assert events_of("temporary_code_used") == []


def test_wrong_codes_of_every_kind_count_together_and_the_code_clears_them(
    app: Flask, with_device: Any, admin_client: FlaskClient
) -> None:
    code = _issued_code(admin_client, with_device)
    client = app.test_client()
    client.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    wrong_otp = f"{(int(totp_code()) + 1) % 1_000_000:06d}"
    client.post("/login/otp", data={"code": wrong_otp})
    client.post("/login/otp", data={"code": WRONG_CODE})
    db.session.expire_all()
    assert db.session.get(TwoStepAccount, with_device.id).failed_attempts == 2  # type: ignore[union-attr]
    assert client.post("/login/otp", data={"code": code}).status_code == 303
    db.session.expire_all()
    assert db.session.get(TwoStepAccount, with_device.id).failed_attempts == 0  # type: ignore[union-attr]


def test_the_code_never_remembers_the_computer(
    app: Flask, two_step_on: Any, employee: Any, connect_device: Any, admin_client: FlaskClient
) -> None:
    two_step_on(allow_remember=True)
    connect_device(employee)
    code = _issued_code(admin_client, employee)
    client, response = _sign_in_with(app, code, remember_device="y")
    assert response.status_code == 303 and _signed_in(client)
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(cookie.startswith("otp_remembered=") for cookie in cookies)
    assert db.session.scalars(select(RememberedComputer)).all() == []
    assert events_of("device_remembered") == []
    # The next sign-in on that browser asks for a code again.
    client.post("/logout")
    again = client.post("/login", data={"login": "employee", "password": DEFAULT_PASSWORD})
    assert again.headers["Location"] == "/login/otp"


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["0", "73", "x", "1" * 10_240, "", "-1", "2.5"])
def test_bad_hours_are_refused_next_to_the_field_and_nothing_changes(
    with_device: Any, admin_client: FlaskClient, hours: str
) -> None:
    before = snapshot()
    response = _issue(admin_client, with_device, hours)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="temporary-hours-error"' in page
    expected = (
        message("form.required") if hours == "" else message("otp.temporary_code_hours", max=72)
    )
    assert expected in _text(response)
    assert 'class="temporary-code"' not in page
    assert snapshot() == before


def test_an_employee_without_the_right_gets_403(
    with_device: Any, make_user: Any, connect_device: Any, app: Flask
) -> None:
    make_user("colleague")
    client = app.test_client()
    client.post("/login", data={"login": "colleague", "password": DEFAULT_PASSWORD})
    before = snapshot()
    assert _issue(client, with_device).status_code == 403
    revoke = client.post(f"/admin/users/{with_device.id}/otp/temporary-code/revoke")
    assert revoke.status_code == 403
    assert without_events(snapshot()) == without_events(before)
    assert events_of("temporary_code_issued") == []


def test_a_helpdesk_member_issues_for_employees_but_not_for_administrators(
    with_device: Any, manager_client: FlaskClient, admin: Any, connect_device: Any
) -> None:
    connect_device(admin)
    assert CODE_SHOWN.search(_issue(manager_client, with_device).get_data(as_text=True))
    assert _issue(manager_client, admin).status_code == 403
    assert _row(admin) is None


def test_issuing_needs_a_recent_sign_in(
    with_device: Any, admin_client: FlaskClient, admin: Any
) -> None:
    make_sign_in_stale(admin.id)
    before = snapshot()
    response = _issue(admin_client, with_device)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/my/reauth")
    assert without_events(snapshot()) == without_events(before)


def test_a_user_without_a_device_gets_no_code(
    on: Any, employee: Any, admin_client: FlaskClient
) -> None:
    response = _issue(admin_client, employee)
    assert response.status_code == 303
    assert message("otp.no_device") in _text(admin_client.get(response.location))
    assert _row(employee) is None


def test_nobody_issues_a_code_for_their_own_mandatory_two_step(
    app: Flask, two_step_on: Any, admin: Any, connect_device: Any
) -> None:
    two_step_on(mandatory=True, mandatory_groups="1")
    connect_device(admin)
    admin_client = app.test_client()
    admin_client.post("/login", data={"login": "admin", "password": DEFAULT_PASSWORD})
    assert admin_client.post("/login/otp", data={"code": totp_code()}).status_code == 303
    response = _issue(admin_client, admin)
    assert response.status_code == 403
    assert 'class="temporary-code"' not in response.get_data(as_text=True)
    assert _row(admin) is None
    [refused] = events_of("temporary_code_issued")
    assert refused.outcome == "refused"


# --- what people are told ----------------------------------------------------------------


def test_the_tab_and_my_page_say_a_code_is_active_and_until_when(
    app: Flask, with_device: Any, admin_client: FlaskClient
) -> None:
    employee = with_device
    tab_url = f"/admin/users/{employee.id}?tab=otp"
    assert "data-temporary-code-until" not in admin_client.get(tab_url).get_data(as_text=True)
    code = _issued_code(admin_client, employee, hours="5")
    until = _row(employee).expires_at  # type: ignore[union-attr]
    tab = _text(admin_client.get(tab_url))
    assert message("otp.temporary_code_active", until=shown_time(until)) in tab
    client, _response = _sign_in_with(app, code)
    security = _text(client.get("/my/security"))
    assert message("mypage.temporary_code_active", until=shown_time(until)) in security
    # Revoked: neither says so any more.
    admin_client.post(f"/admin/users/{employee.id}/otp/temporary-code/revoke")
    assert "data-temporary-code-until" not in admin_client.get(tab_url).get_data(as_text=True)


def test_the_user_is_told_by_a_notice_that_never_holds_the_code(
    with_device: Any, admin_client: FlaskClient, app: Flask
) -> None:
    employee = with_device
    code = _issued_code(admin_client, employee, hours="3")
    until = _row(employee).expires_at  # type: ignore[union-attr]
    db.session.expire_all()
    [notice] = db.session.scalars(
        select(Notice).where(Notice.user_id == employee.id, Notice.kind == "temporary_code_issued")
    ).all()
    assert code.replace("-", "") not in notice.values and code not in notice.values
    client, _response = _sign_in_with(app, code)
    page = _text(client.get("/my/notifications"))
    assert message("notice.temporary_code_issued.subject") in page
    assert "Administrator admin" in page and shown_time(until) in page
