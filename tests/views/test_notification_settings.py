"""Settings → Notifications, and the issue's journey: a switch-off told by one e-mail.

The SMTP server is real (aiosmtpd in the test process, tests/support/mail.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from security import notices
from security.messages import message
from tests.support import sign_in, snapshot
from tests.support.mail import SmtpServer

PASSWORD_OF_THE_MAIL_ACCOUNT = "mail-account-secret-42"


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpServer]:
    """A real SMTP server; the console's mail settings point at it, as at start-up."""
    server = SmtpServer().start()
    app.config.update(server.settings(MAIL_FROM="console@example.test", PUBLIC_URL=""))
    notices.configure(mail_enabled=True)
    yield server
    notices.configure(mail_enabled=False)
    server.stop()


def _html(response: Any) -> str:
    return response.get_data(as_text=True)


def _checked_kinds(page: str) -> set[str]:
    return set(re.findall(r'<input checked[^>]*name="kinds"[^>]*value="([a-z_0-9]+)"', page)) | set(
        re.findall(r'<input[^>]*name="kinds"[^>]*value="([a-z_0-9]+)"[^>]*checked', page)
    )


def test_the_page_offers_every_kind_and_shows_the_mail_settings_without_the_password(
    app: Flask, admin_client: FlaskClient, smtp: SmtpServer
) -> None:
    app.config.update(MAIL_USERNAME="console", MAIL_PASSWORD=PASSWORD_OF_THE_MAIL_ACCOUNT)
    page = _html(admin_client.get("/admin/settings/notifications"))
    assert _checked_kinds(page) == set(notices.KINDS)
    assert f"127.0.0.1:{smtp.port}" in page
    assert "console@example.test" in page
    assert PASSWORD_OF_THE_MAIL_ACCOUNT not in page
    assert message("notify.password_set") in page


def test_an_employee_cannot_open_the_page(employee_client: FlaskClient) -> None:
    assert employee_client.get("/admin/settings/notifications").status_code == 403


def test_a_kind_not_mailed_stays_on_my_page_only(
    app: Flask,
    admin_client: FlaskClient,
    smtp: SmtpServer,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
) -> None:
    from extensions import db
    from models import OutgoingMail

    kept = [kind for kind in notices.KINDS if kind != notices.OTP_DISABLED]
    saved = admin_client.post("/admin/settings/notifications", data={"kinds": kept})
    assert saved.status_code == 303
    assert notices.OTP_DISABLED not in _checked_kinds(
        _html(admin_client.get("/admin/settings/notifications"))
    )
    two_step_on()
    user = make_user("employee", email="employee@example.test")
    connect_device(user)
    admin_client.post(f"/admin/users/{user.id}/otp/disable", data={"days": "3"})
    admin_client.post(f"/admin/users/{user.id}/otp/enable")
    mailed = [mail.notice.kind for mail in db.session.scalars(select(OutgoingMail))]
    assert notices.OTP_DISABLED not in mailed
    assert notices.OTP_ENABLED in mailed


@pytest.mark.parametrize("kinds", [["no_such_kind"], ["otp_locked", "x" * 5000]])
def test_an_unknown_kind_is_refused_and_changes_nothing(
    admin_client: FlaskClient, kinds: list[str]
) -> None:
    before = snapshot()
    answer = admin_client.post("/admin/settings/notifications", data={"kinds": kinds})
    assert answer.status_code == 400
    assert message("notify.unknown_kind") in _html(answer)
    assert snapshot() == before


def test_a_test_message_goes_to_the_administrators_address_with_the_servers_answer(
    app: Flask, smtp: SmtpServer, make_user: Any
) -> None:
    make_user("boss", admin=True, email="boss@example.test")
    client = app.test_client()
    assert sign_in(client, "boss").status_code == 303
    answer = client.post("/admin/settings/notifications/test")
    assert answer.status_code == 303
    page = _html(client.get("/admin/settings/notifications"))
    assert "250" in page and message("notify.test_sent", reply="").split(":")[0] in page
    assert [received.recipients for received in smtp.received] == [("boss@example.test",)]
    assert smtp.received[0].message["Auto-Submitted"] == "auto-generated"
    # The server says no: its answer is shown.
    smtp.handler.answer_rcpt("550 5.1.1 <boss@example.test>: mailbox unavailable")
    client.post("/admin/settings/notifications/test")
    page = _html(client.get("/admin/settings/notifications"))
    assert "mailbox unavailable" in page


def test_a_test_message_needs_a_server_and_an_address(
    app: Flask, admin_client: FlaskClient
) -> None:
    admin_client.post("/admin/settings/notifications/test")
    assert message("notify.no_mail_server") in _html(
        admin_client.get("/admin/settings/notifications")
    )


def test_an_administrator_switches_a_user_off_for_three_days_and_the_user_gets_one_email(
    app: Flask,
    admin_client: FlaskClient,
    smtp: SmtpServer,
    make_user: Any,
    connect_device: Any,
    two_step_on: Any,
    runner: Any,
) -> None:
    two_step_on()
    user = make_user("employee", email="employee@example.test")
    connect_device(user)
    runner.invoke(args=["notify", "send", "--once"])  # the connection's own notice
    before = len(smtp.received)
    assert admin_client.post(
        f"/admin/users/{user.id}/otp/disable", data={"days": "3"}
    ).status_code in (302, 303)
    for _ in range(3):
        result = runner.invoke(args=["notify", "send", "--once"])
        assert result.exit_code == 0, result.output
    arrived = smtp.received[before:]
    assert len(arrived) == 1
    mail = arrived[0]
    assert mail.recipients == ("employee@example.test",)
    assert message("notice.otp_disabled.subject") in str(mail.message["Subject"])
    assert "Administrator admin" in mail.text
    # The same notice on My page.
    employee = app.test_client()
    assert sign_in(employee, "employee").status_code == 303
    assert 'data-notice-kind="otp_disabled"' in _html(employee.get("/my/notifications"))
