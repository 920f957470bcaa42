"""Notices: what each change tells whom, on My page and in the outbox, in the reader's words."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from security.messages import message
from tests.support import DEFAULT_PASSWORD, sign_in, totp_code, user_named

MAIL = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 2525}


def _notices(login: str) -> list[Any]:
    from extensions import db
    from models import Notice

    user = user_named(login)
    return list(db.session.scalars(select(Notice).where(Notice.user_id == user.id)))


def _kinds(login: str) -> list[str]:
    return [notice.kind for notice in _notices(login)]


def _mail_to(address: str) -> list[Any]:
    from extensions import db
    from models import OutgoingMail

    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == address)))


def _page_kinds(client: FlaskClient) -> list[str]:
    page = client.get("/my/notifications").get_data(as_text=True)
    return re.findall(r'<li data-notice-kind="([a-z_0-9]+)"', page)


def _unread(client: FlaskClient) -> int:
    page = client.get("/my/").get_data(as_text=True)
    found = re.search(r'data-unread-count="(\d+)"', page)
    assert found, "the header shows the unread count"
    return int(found.group(1))


@pytest.mark.settings(**MAIL)
def test_an_administrators_switch_off_is_told_on_my_page_and_by_one_email(
    app: Flask,
    admin_client: FlaskClient,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
) -> None:
    two_step_on()
    user = make_user("employee", email="employee@example.test")
    connect_device(user)
    employee = app.test_client()
    assert sign_in(employee, "employee").status_code in (302, 303)
    assert employee.post("/login/otp", data={"code": totp_code()}).status_code == 303
    before = _unread(employee)
    answer = admin_client.post(f"/admin/users/{user.id}/otp/disable", data={"days": "3"})
    assert answer.status_code in (302, 303)
    # The switch-off ended the employee's sessions: they sign in again (password only),
    # in the same browser.
    assert sign_in(employee, "employee").status_code == 303
    assert _page_kinds(employee)[0] == "otp_disabled"
    assert _unread(employee) == before + 1
    page = employee.get("/my/notifications").get_data(as_text=True)
    assert message("notice.otp_disabled.subject") in page
    assert "admin" in page  # who
    mails = [
        mail for mail in _mail_to("employee@example.test") if mail.notice.kind == "otp_disabled"
    ]
    assert len(mails) == 1 and mails[0].status == "pending"
    # Read: the count goes to zero and the notice stays.
    assert employee.post("/my/notifications/read").status_code == 303
    assert _unread(employee) == 0
    assert _page_kinds(employee)[0] == "otp_disabled"


def test_without_a_mail_server_notices_stay_on_my_page(
    app: Flask, admin_client: FlaskClient, make_user: Any, connect_device: Any, two_step_on: Any
) -> None:
    two_step_on()
    user = make_user("employee", email="employee@example.test")
    connect_device(user)
    admin_client.post(f"/admin/users/{user.id}/otp/disable", data={"days": "3"})
    assert "otp_disabled" in _kinds("employee")
    assert _mail_to("employee@example.test") == []


def test_each_administrators_action_is_told_to_the_user_but_not_ones_own(
    app: Flask,
    admin_client: FlaskClient,
    admin: Any,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
) -> None:
    two_step_on()
    user = make_user("employee")
    connect_device(user)
    assert _kinds("employee") == ["otp_connected"]
    admin_client.post(f"/admin/users/{user.id}/otp/disable", data={"days": "0"})
    admin_client.post(f"/admin/users/{user.id}/otp/enable")
    admin_client.post(f"/admin/users/{user.id}/recovery-codes")
    admin_client.post(f"/admin/users/{user.id}/otp/delete")
    assert _kinds("employee") == [
        "otp_connected",
        "otp_disabled",
        "otp_enabled",
        "recovery_codes_generated",
        "otp_removed",
    ]
    # The administrator's own two-step, switched off by themselves: nothing to tell.
    connect_device(admin)
    own = _kinds("admin")
    admin_client.post(f"/admin/users/{admin.id}/otp/disable", data={"days": "1"})
    assert _kinds("admin") == own


def test_a_notice_never_holds_a_code_a_secret_or_a_password(
    app: Flask, employee_client: FlaskClient, employee: Any, two_step_on: Any
) -> None:
    from extensions import db
    from models import Notice

    two_step_on()
    page = employee_client.get("/my/security/connect").get_data(as_text=True)
    secret = re.search(r"secret=([A-Z2-7]+)", page)
    assert secret
    employee_client.post(
        "/my/security/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "another long password",
            "new_password_confirm": "another long password",
        },
    )
    texts = " ".join(notice.values for notice in db.session.scalars(select(Notice)))
    assert secret.group(1) not in texts
    assert "another long password" not in texts
    assert "password_changed" in _kinds("employee")


def test_a_refused_change_tells_nothing(
    app: Flask, admin_client: FlaskClient, employee: Any, connect_device: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_groups="2", mandatory_days=5)
    connect_device(employee)
    before = _kinds("employee")
    # Under mandatory two-step a switch-off with no end is refused: nothing to tell.
    refused = admin_client.post(f"/admin/users/{employee.id}/otp/disable", data={"days": "0"})
    assert refused.status_code == 400
    assert _kinds("employee") == before


def test_a_recovery_code_used_and_a_lock_are_told_with_what_is_left(
    app: Flask, make_user: Any, connect_device: Any, two_step_on: Any, admin: Any
) -> None:
    two_step_on(max_attempts=3)
    user = make_user("employee")
    codes = connect_device(user)
    browser = app.test_client()
    sign_in(browser, "employee")
    assert browser.post("/login/otp", data={"code": codes[0]}).status_code == 303
    notice = _notices("employee")[-1]
    assert notice.kind == "recovery_code_used" and '"left": 9' in notice.values
    page = browser.get("/my/notifications").get_data(as_text=True)
    assert message("notice.recovery_code_used.text", time="", left=9).split("{")[0][:30] in page
    other = app.test_client()
    sign_in(other, "employee")
    for _ in range(3):
        other.post("/login/otp", data={"code": "000000"})
    assert _kinds("employee")[-1] == "otp_locked"


def test_an_administrators_lock_is_told_to_the_other_administrators(
    app: Flask, make_user: Any, connect_device: Any, two_step_on: Any
) -> None:
    two_step_on(max_attempts=2)
    first = make_user("first_admin", admin=True)
    make_user("second_admin", admin=True)
    connect_device(first)
    browser = app.test_client()
    sign_in(browser, "first_admin")
    for _ in range(2):
        browser.post("/login/otp", data={"code": "000000"})
    assert _kinds("first_admin")[-1] == "otp_locked"
    assert "admin_locked" not in _kinds("first_admin")
    told = _notices("second_admin")[-1]
    assert told.kind == "admin_locked" and "first_admin" in told.values


def test_switching_two_step_off_for_everyone_tells_the_administrators(
    app: Flask, admin_client: FlaskClient, admin: Any, make_user: Any, two_step_on: Any
) -> None:
    two_step_on()
    make_user("other_admin", admin=True)
    make_user("employee")
    assert admin_client.post("/admin/security/otp/disable").status_code in (302, 303)
    assert _kinds("other_admin")[-1] == "two_step_switched_off"
    assert _kinds("admin")[-1] == "two_step_switched_off"
    assert "two_step_switched_off" not in _kinds("employee")


def test_a_sign_in_from_a_browser_not_seen_before_is_told(app: Flask, employee: Any) -> None:
    first = app.test_client()
    assert sign_in(first, "employee").status_code == 303  # the first sign-in ever: no notice
    assert "new_browser" not in _kinds("employee")
    first.post("/logout")
    assert sign_in(first, "employee").status_code == 303  # the same browser again
    assert "new_browser" not in _kinds("employee")
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
    )
    assert sign_in(other, "employee").status_code == 303
    assert _kinds("employee").count("new_browser") == 1
    page = other.get("/my/notifications").get_data(as_text=True)
    assert "Chrome 120" in page


def test_grace_start_and_reminders_are_told_once_per_deadline(
    app: Flask, make_user: Any, two_step_on: Any
) -> None:
    from extensions import db
    from models import utcnow
    from security import notices, two_step

    two_step_on(mandatory=True, mandatory_groups="2", mandatory_days=10)
    make_user("employee")
    assert sign_in(app.test_client(), "employee").status_code in (302, 303)
    assert _kinds("employee") == ["grace_started"]
    user = user_named("employee")
    deadline = two_step.account_of(user.id).grace_deadline
    assert deadline is not None
    for _ in range(3):
        notices.create_due_reminders(deadline - timedelta(days=5))
    assert _kinds("employee") == ["grace_started"]
    for _ in range(3):
        notices.create_due_reminders(deadline - timedelta(days=2, hours=12))
    assert _kinds("employee").count("grace_reminder_3_days") == 1
    for _ in range(2):
        notices.create_due_reminders(deadline - timedelta(hours=20))
        notices.create_due_reminders(deadline + timedelta(hours=1))
    assert _kinds("employee") == [
        "grace_started",
        "grace_reminder_3_days",
        "grace_reminder_1_day",
        "grace_overdue",
    ]
    # A new deadline (an administrator gave more days) is reminded of again.
    two_step.ensure_account(user.id).grace_deadline = utcnow() + timedelta(days=2)
    db.session.commit()
    notices.create_due_reminders(utcnow())
    assert _kinds("employee").count("grace_reminder_3_days") == 2


def test_a_russian_recipients_email_is_in_russian_and_their_zone(
    app: Flask, admin_client: FlaskClient, make_user: Any, connect_device: Any, two_step_on: Any
) -> None:
    from extensions import db
    from security import notices
    from web.i18n import TRANSLATIONS, read_catalog
    from web.notice_text import render_mail

    notices.configure(mail_enabled=True)
    try:
        two_step_on()
        user = make_user("employee", email="ivan@example.test")
        user.language, user.timezone = "ru", "Asia/Yekaterinburg"
        db.session.commit()
        connect_device(user)
        admin_client.post(f"/admin/users/{user.id}/otp/disable", data={"days": "3"})
        mail = next(m for m in _mail_to("ivan@example.test") if m.notice.kind == "otp_disabled")
        rendered = render_mail(mail, public_url="https://console.example.test")
    finally:
        notices.configure(mail_enabled=False)
    russian = {
        str(entry.context): entry.string
        for entry in read_catalog(TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po")
        if entry.id
    }
    assert rendered.subject.startswith(russian["notice.otp_disabled.subject"])
    assert "(Asia/Yekaterinburg)" in rendered.text
    assert "https://console.example.test/my/notifications" in rendered.text
    assert 'href="https://console.example.test/my/notifications"' in rendered.html
    assert '<html lang="ru">' in rendered.html
