"""Journeys of the foundation in a real browser: sign-in, users, passwords, sessions.

Each test works with its own users, since the served database lives for the whole run.
Every page visited is also checked for console errors (a CSP violation is one) by the
fixtures, and for a title, one heading and a label on every field.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from security.messages import message
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "first password 123"
NEW_PASSWORD = "second password 456"


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text(message("login.signed_out"))


def check_page_basics(page: Page) -> None:
    """A title, one main heading, and a name for every field a person can fill in."""
    assert page.title().strip(), f"{page.url} has no title"
    expect(page.locator("h1")).to_have_count(1)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
              .filter(el => el.type !== 'hidden')
              .filter(el => !(el.labels && el.labels.length)
                            && !el.getAttribute('aria-label')
                            && !el.getAttribute('aria-labelledby'))
              .map(el => el.name || el.id || el.outerHTML)"""
    )
    assert unlabelled == [], f"{page.url}: fields without a label: {unlabelled}"


def test_administrator_creates_an_employee_who_changes_the_password(
    page: Page, live_server: Any, screenshot: Callable[..., Any]
) -> None:
    login = unique("anna")

    page.goto("/login")
    check_page_basics(page)
    screenshot(page, "login")

    sign_in(page, "admin", live_server.admin_password)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    check_page_basics(page)
    screenshot(page, "admin-overview")

    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Users").click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    expect(page.locator("tr[data-user-id]").first).to_be_visible()
    check_page_basics(page)
    screenshot(page, "admin-users")

    page.get_by_role("link", name="Add a user").first.click()
    expect(page).to_have_url(re.compile(r"/admin/users/new"))
    check_page_basics(page)
    page.get_by_label("Login").fill(login)
    page.get_by_label("E-mail").fill(f"{login}@example.test")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    screenshot(page, "admin-user-new")
    page.get_by_role("button", name="Create user").click()
    expect(page).to_have_url(re.compile(r"/admin/users/\d+"))
    expect(page.get_by_role("status")).to_contain_text(message("user.created", login=login))
    check_page_basics(page)
    screenshot(page, "admin-user-profile")

    sign_out(page)

    sign_in(page, login, PASSWORD)
    expect(page).to_have_url(re.compile(r"/my/$"))
    expect(page.locator("dl.facts")).to_contain_text(login)
    check_page_basics(page)
    screenshot(page, "my-page")

    page.get_by_role("link", name="Security").first.click()
    expect(page).to_have_url(re.compile(r"/my/security$"))
    check_page_basics(page)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label(re.compile("^Repeat")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text(message("mypage.password_changed"))
    screenshot(page, "my-security-password-changed")

    sign_out(page)

    sign_in(page, login, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(message("login.invalid"))
    screenshot(page, "login-refused")

    sign_in(page, login, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/my/$"))


def test_a_wrong_current_password_is_shown_next_to_the_field(page: Page, live_server: Any) -> None:
    login = unique("boris")
    live_server.flask("users", "create", login, "--password", PASSWORD)
    sign_in(page, login, PASSWORD)
    page.goto("/my/security")
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label(re.compile("^Repeat")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    field = page.get_by_label("Current password")
    expect(field).to_have_attribute("aria-invalid", "true")
    error_id = field.get_attribute("aria-describedby")
    assert error_id
    expect(page.locator(f"#{error_id}")).to_be_visible()


def test_the_sessions_list_shows_this_browser_and_ends_another(
    page: Page, new_context: Callable[..., Any], live_server: Any, screenshot: Callable[..., Any]
) -> None:
    login = unique("clara")
    live_server.flask("users", "create", login, "--password", PASSWORD)
    other = new_context(user_agent="Other browser/1.0").new_page()
    sign_in(other, login, PASSWORD)
    expect(other).to_have_url(re.compile(r"/my/$"))

    sign_in(page, login, PASSWORD)
    page.goto("/my/security")
    current = page.locator('tr[data-session-current="yes"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text("this browser")
    expect(current).to_contain_text("Chrome")
    expect(page.locator('tr[data-session-current="no"]')).to_contain_text("Other browser/1.0")
    screenshot(page, "my-security")

    page.get_by_role("button", name="End all other sessions").click()
    expect(page.locator('tr[data-session-current="no"]')).to_have_count(0)

    other.goto("/my/")
    expect(other).to_have_url(re.compile(r"/login\?next=%2Fmy%2F$"))


def test_a_copied_cookie_stops_working_after_logout(
    page: Page, new_context: Callable[..., Any], live_server: Any
) -> None:
    login = unique("dmitri")
    live_server.flask("users", "create", login, "--password", PASSWORD)
    sign_in(page, login, PASSWORD)
    expect(page).to_have_url(re.compile(r"/my/$"))

    thief_context = new_context()
    thief_context.add_cookies(page.context.cookies())
    thief = thief_context.new_page()
    thief.goto("/my/")
    expect(thief).to_have_url(re.compile(r"/my/$"))
    expect(thief.locator("dl.facts")).to_contain_text(login)

    sign_out(page)

    thief.goto("/my/")
    expect(thief).to_have_url(re.compile(r"/login\?next=%2Fmy%2F$"))


def test_every_foundation_page_loads_without_console_errors(
    page: Page, live_server: Any, screenshot: Callable[..., Any]
) -> None:
    """The CSP forbids inline script and style: any violation shows in the console."""
    sign_in(page, "admin", live_server.admin_password)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    paths = [
        "/admin/",
        "/admin/users",
        "/admin/users?q=admin",
        "/admin/users/new",
        "/admin/users/1",
        "/admin/users/1?tab=groups",
        "/admin/users/1?tab=personal",
        "/admin/users/1?tab=events",
        "/admin/events",
        "/my/",
        "/my/security",
    ]
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        check_page_basics(page)
        screenshot(page, "page" + re.sub(r"[/?=]+", "-", path).rstrip("-"))
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404


@pytest.mark.parametrize("path", ["/my/", "/my/security", "/login"])
def test_my_pages_fit_a_phone_screen(
    new_context: Callable[..., Any], live_server: Any, screenshot: Callable[..., Any], path: str
) -> None:
    """My page is opened on phones: nothing may need sideways scrolling at 390 px."""
    login = unique("elif")
    live_server.flask("users", "create", login, "--password", PASSWORD)
    phone = new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    ).new_page()
    sign_in(phone, login, PASSWORD)
    expect(phone).to_have_url(re.compile(r"/my/$"))
    if path == "/login":
        phone.get_by_role("button", name="Sign out").click()
    else:
        phone.goto(path)
    screenshot(phone, "phone" + path.rstrip("/").replace("/", "-"))
    # A mobile browser widens the layout viewport to fit the content, so compare
    # with the screen's 390 px, not with innerWidth.
    too_wide = phone.evaluate(
        """() => [...document.querySelectorAll('body *')]
              .filter(el => el.getBoundingClientRect().right > 390.5)
              .filter(el => !el.closest('.table-scroll, .table'))
              .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))"""
    )
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width}px wide on a 390px phone: {too_wide[:8]}"
