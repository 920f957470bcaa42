"""Server-side sessions: a copied cookie stops working when the session ends, for any reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.support import copy_of, events_of, is_login_redirect, sign_in


def _records(user_id: int) -> list[Any]:
    from extensions import db
    from models import UserSession

    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.created_at)
        )
    )


def _sid(client: Any) -> str:
    from security.sessions import session_id_for

    with client.session_transaction() as session:
        return session_id_for(session["sid"])


def _age_sessions(user_id: int, **ago: timedelta) -> None:
    """Move a user's session times back, as if that much time had passed."""
    from extensions import db
    from models import UserSession, utcnow

    now = utcnow()
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id)
        .values({column: now - delta for column, delta in ago.items()})
    )
    db.session.commit()


@pytest.fixture
def browser(app: Flask, employee: Any) -> Any:
    client = app.test_client()
    assert sign_in(client, "employee").status_code == 303
    assert client.get("/my/").status_code == 200
    return client


def test_a_copied_cookie_works_while_the_session_lives(app: Flask, browser: Any) -> None:
    assert copy_of(browser, app).get("/my/").status_code == 200


def test_a_copied_cookie_stops_working_after_logout(
    app: Flask, browser: Any, employee: Any
) -> None:
    stolen = copy_of(browser, app)
    assert browser.post("/logout").status_code == 303
    assert is_login_redirect(stolen.get("/my/"))
    assert is_login_redirect(stolen.post("/my/sessions/end-others"))
    [record] = _records(employee.id)
    assert record.end_reason == "logout"


def test_a_copied_cookie_stops_working_when_the_user_is_blocked(
    app: Flask, browser: Any, employee: Any, admin_client: Any
) -> None:
    stolen = copy_of(browser, app)
    response = admin_client.post(
        f"/admin/users/{employee.id}", data={"login": "employee", "groups": []}
    )
    assert response.status_code == 303
    assert is_login_redirect(stolen.get("/my/"))
    assert is_login_redirect(browser.get("/my/"))
    assert all(record.ended_at is not None for record in _records(employee.id))
    # Blocked means blocked: the password no longer opens a session.
    assert sign_in(app.test_client(), "employee").status_code == 200


def test_a_password_change_ends_the_other_sessions(app: Flask, browser: Any, employee: Any) -> None:
    from security.messages import message

    elsewhere = app.test_client()
    assert sign_in(elsewhere, "employee").status_code == 303
    response = browser.post(
        "/my/security/password",
        data={
            "current_password": "correct horse battery",
            "new_password": "a brand new passphrase",
            "new_password_confirm": "a brand new passphrase",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert message("mypage.password_changed") in response.get_data(as_text=True)
    assert is_login_redirect(elsewhere.get("/my/"))
    # The browser that changed it stays signed in.
    assert browser.get("/my/").status_code == 200
    assert sign_in(app.test_client(), "employee").status_code == 200
    assert sign_in(app.test_client(), "employee", "a brand new passphrase").status_code == 303


def test_a_password_change_needs_the_current_password(
    app: Flask, browser: Any, employee: Any
) -> None:
    from security.messages import message

    elsewhere = app.test_client()
    assert sign_in(elsewhere, "employee").status_code == 303
    response = browser.post(
        "/my/security/password",
        data={
            "current_password": "not my password",
            "new_password": "a brand new passphrase",
            "new_password_confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 400
    assert message("mypage.current_password_wrong") in response.get_data(as_text=True)
    assert elsewhere.get("/my/").status_code == 200
    assert sign_in(app.test_client(), "employee").status_code == 303
    assert [event.outcome for event in events_of("password_changed")] == ["failure"]


def test_an_administrators_new_password_ends_every_session(
    app: Flask, browser: Any, employee: Any, admin_client: Any
) -> None:
    stolen = copy_of(browser, app)
    response = admin_client.post(
        f"/admin/users/{employee.id}",
        data={
            "login": "employee",
            "active": "y",
            "password": "set by the administrator",
            "password_confirm": "set by the administrator",
        },
    )
    assert response.status_code == 303
    assert is_login_redirect(browser.get("/my/"))
    assert is_login_redirect(stolen.get("/my/"))


def test_an_idle_session_ends_after_30_minutes(app: Flask, browser: Any, employee: Any) -> None:
    from security.messages import message

    _age_sessions(employee.id, last_seen_at=timedelta(minutes=29))
    assert browser.get("/my/").status_code == 200
    _age_sessions(employee.id, last_seen_at=timedelta(minutes=31))
    response = browser.get("/my/security")
    assert is_login_redirect(response)
    [record] = _records(employee.id)
    assert record.end_reason == "idle"
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert message("login.session_ended") in page
    # Coming back does not revive it.
    _age_sessions(employee.id, last_seen_at=timedelta(0))
    assert is_login_redirect(browser.get("/my/"))


def test_activity_keeps_a_session_alive(app: Flask, browser: Any, employee: Any) -> None:
    _age_sessions(employee.id, last_seen_at=timedelta(minutes=20))
    assert browser.get("/my/").status_code == 200
    [record] = _records(employee.id)
    from models import utcnow

    assert utcnow() - record.last_seen_at < timedelta(minutes=1)


def test_a_session_ends_after_12_hours_however_active(
    app: Flask, browser: Any, employee: Any
) -> None:
    _age_sessions(employee.id, created_at=timedelta(hours=11, minutes=59))
    assert browser.get("/my/").status_code == 200
    _age_sessions(employee.id, created_at=timedelta(hours=12, minutes=1))
    assert is_login_redirect(browser.get("/my/"))
    [record] = _records(employee.id)
    assert record.end_reason == "expired"


@pytest.mark.settings(SESSION_IDLE_MINUTES=5)
def test_the_idle_limit_is_a_setting(app: Flask, browser: Any, employee: Any) -> None:
    _age_sessions(employee.id, last_seen_at=timedelta(minutes=6))
    assert is_login_redirect(browser.get("/my/"))


def test_my_page_lists_the_active_sessions(app: Flask, browser: Any, employee: Any) -> None:
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = "Phone browser 1.0"
    assert sign_in(phone, "employee").status_code == 303
    ended = app.test_client()
    assert sign_in(ended, "employee").status_code == 303
    ended.post("/logout")

    page = browser.get("/my/security").get_data(as_text=True)
    assert page.count('data-session-current="yes"') == 1
    assert page.count('data-session-current="no"') == 1
    assert "Phone browser 1.0" in page
    assert f"/my/sessions/{_sid(phone)}/end" in page


def test_ending_one_other_session(app: Flask, browser: Any, employee: Any) -> None:
    from security.messages import message

    phone = app.test_client()
    assert sign_in(phone, "employee").status_code == 303
    response = browser.post(f"/my/sessions/{_sid(phone)}/end", follow_redirects=True)
    assert message("mypage.session_ended") in response.get_data(as_text=True)
    assert is_login_redirect(phone.get("/my/"))
    assert browser.get("/my/").status_code == 200
    assert events_of("session_ended")[-1].subject_id == employee.id


def test_ending_all_other_sessions(app: Flask, browser: Any, employee: Any, admin: Any) -> None:
    from security.messages import message

    phone = app.test_client()
    tablet = app.test_client()
    admins_browser = app.test_client()
    for client, login in ((phone, "employee"), (tablet, "employee"), (admins_browser, "admin")):
        assert sign_in(client, login).status_code == 303
    response = browser.post("/my/sessions/end-others", follow_redirects=True)
    assert message("mypage.other_sessions_ended") in response.get_data(as_text=True)
    assert is_login_redirect(phone.get("/my/"))
    assert is_login_redirect(tablet.get("/my/"))
    assert browser.get("/my/").status_code == 200
    # Someone else's sessions are not touched.
    assert admins_browser.get("/admin/").status_code == 200


def test_another_users_session_cannot_be_ended(
    app: Flask, browser: Any, employee: Any, admin: Any
) -> None:
    admins_browser = app.test_client()
    assert sign_in(admins_browser, "admin").status_code == 303
    response = browser.post(f"/my/sessions/{_sid(admins_browser)}/end")
    assert response.status_code == 404
    assert browser.post("/my/sessions/no-such-session/end").status_code == 404
    assert admins_browser.get("/admin/").status_code == 200
    assert all(record.ended_at is None for record in _records(admin.id))


def test_a_cookie_for_a_deleted_user_is_refused(app: Flask, browser: Any, employee: Any) -> None:
    from extensions import db
    from models import User

    db.session.delete(db.session.get(User, employee.id))
    db.session.commit()
    assert is_login_redirect(browser.get("/my/"))


def test_a_forged_session_token_is_refused(app: Flask, browser: Any) -> None:
    with browser.session_transaction() as session:
        session["sid"] = "x" * 43
    assert is_login_redirect(browser.get("/my/"))
    with browser.session_transaction() as session:
        session["sid"] = "x" * 5000
    assert is_login_redirect(browser.get("/my/"))
