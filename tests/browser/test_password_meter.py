"""The strength meter of new-password fields in Chromium, under the console's CSP.

The meter is a hint drawn by static/password_meter.js as one types; the fixtures fail a
test on any console error, a CSP violation among them. The console's own check when the
form is sent is the one that counts: a password the meter has no list for is refused by
the server with its message next to the field.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from security.messages import message
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "meter journey password 1"


def _strength(level: str) -> str:
    return f"{message('password.strength')}: {message(f'password.strength.{level}')}"


def test_the_meter_follows_the_typing_and_the_server_has_the_last_word(
    page: Page, live_server: Any, screenshot: Any
) -> None:
    login = f"meterman{secrets.token_hex(3)}"
    live_server.flask("users", "create", login, "--password", PASSWORD)
    sign_in(page, login, PASSWORD)
    page.goto("/my/security")
    new_password = page.get_by_label("New password", exact=True)
    meter = page.locator("p.strength")
    expect(meter).to_be_hidden()  # nothing typed, nothing said

    new_password.fill("short")
    expect(meter).to_be_visible()
    expect(meter).to_contain_text(_strength("too_short"))
    expect(meter).to_have_attribute("data-strength", "too_short")

    new_password.fill(f"{login.upper()}-2024")
    expect(meter).to_have_attribute("data-strength", "contains_name")
    expect(meter).to_contain_text(_strength("contains_name"))

    new_password.fill("aaaaaaaaaaaa")
    expect(meter).to_have_attribute("data-strength", "weak")

    new_password.fill("staple paperclip lantern orbit")
    expect(meter).to_have_attribute("data-strength", "strong")
    expect(meter).to_contain_text(_strength("strong"))
    # Read with the field, as its hint is.
    described = new_password.get_attribute("aria-describedby") or ""
    assert meter.locator(".strength-text").get_attribute("id") in described.split()
    screenshot(page, "my-security-password-meter")

    new_password.fill("")
    expect(meter).to_be_hidden()

    # A breached password the meter cannot know: the server refuses it, next to the field.
    page.get_by_label("Current password").fill(PASSWORD)
    new_password.fill("123qazwsxedc")
    page.get_by_label(re.compile("^Repeat")).fill("123qazwsxedc")
    page.get_by_role("button", name="Change password").click()
    field = page.get_by_label("New password", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new_password-error")).to_have_text(message("password.common"))
    screenshot(page, "my-security-password-refused")


def test_the_new_user_form_measures_against_the_login_typed(page: Page, live_server: Any) -> None:
    sign_in(page, "admin", live_server.admin_password)
    page.goto("/admin/users/new")
    page.get_by_label("Login").fill("bartholomew")
    password = page.get_by_label("New password")
    password.fill("Bartholomew!1")
    meter = page.locator("p.strength")
    expect(meter).to_have_attribute("data-strength", "contains_name")
    # Another login: the same password is no longer made of it.
    page.get_by_label("Login").fill("someone-else")
    expect(meter).not_to_have_attribute("data-strength", "contains_name")
