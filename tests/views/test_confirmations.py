"""My page asks "I understand" before destructive actions, and the server holds to it.

The forms carry `confirm_asked`; a browser without JavaScript that posts them without the
tick changes nothing. Scripts that post only the contract's fields are not asked.
"""

from __future__ import annotations

import html
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from extensions import db
from models import OtpDevice, RecoveryCode
from security.messages import message
from tests.support import Auth, totp_code


def _signed_in(app: Flask) -> Any:
    client = app.test_client()
    assert Auth(client).login("employee").headers["Location"] == "/login/otp"
    assert client.post("/login/otp", data={"code": totp_code()}).status_code == 303
    return client


def _device_enabled() -> bool:
    db.session.expire_all()
    device = db.session.scalar(select(OtpDevice))
    return device is not None and device.enabled


def _digests() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(RecoveryCode.digest)))


def test_disable_on_my_page_asks_i_understand_without_javascript(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    browser = _signed_in(app)
    page = browser.get("/my/security").get_data(as_text=True)
    form = page.split('action="/my/security/disable"', 1)[1].split("</form>", 1)[0]
    assert 'name="confirm_asked"' in form and 'name="confirm"' in form and "required" in form

    response = browser.post("/my/security/disable", data={"confirm_asked": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/my/security"
    assert _device_enabled()
    assert message("otp.confirm_needed") in html.unescape(
        browser.get("/my/security").get_data(as_text=True)
    )

    response = browser.post("/my/security/disable", data={"confirm_asked": "1", "confirm": "y"})
    assert response.status_code == 303
    assert not _device_enabled()


def test_new_recovery_codes_on_my_page_ask_i_understand_without_javascript(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    browser = _signed_in(app)
    before = _digests()
    page = browser.get("/my/security/recovery-codes").get_data(as_text=True)
    assert 'name="confirm_asked"' in page and 'name="confirm"' in page

    response = browser.post("/my/security/recovery-codes", data={"confirm_asked": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/security/recovery-codes"
    assert _digests() == before

    response = browser.post(
        "/my/security/recovery-codes", data={"confirm_asked": "1", "confirm": "y"}
    )
    assert response.status_code == 200
    assert _digests().isdisjoint(before)
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 10
