"""The gear of the user profile form in Chromium: hide the two-step tab, then bring it back.

The test signs in as an administrator of its own, so that its personal form settings
never change what other journeys in the same served database see.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from security.messages import message
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "gear admin password 1"
OTP_TAB = "Two-step authentication"


def otp_tab_link(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Tabs").get_by_role("link", name=OTP_TAB)


def open_gear(page: Page) -> Locator:
    gear = page.locator("details.gear")
    gear.locator("summary").click()
    return gear


def check_fields_are_labelled(page: Page) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
              .filter(el => el.type !== 'hidden')
              .filter(el => !(el.labels && el.labels.length)
                            && !el.getAttribute('aria-label')
                            && !el.getAttribute('aria-labelledby'))
              .map(el => el.name || el.id || el.outerHTML)"""
    )
    assert unlabelled == [], f"{page.url}: fields without a label: {unlabelled}"


def test_administrator_hides_the_two_step_tab_with_the_gear_and_brings_it_back(
    page: Page, live_server: Any, screenshot: Callable[..., Any]
) -> None:
    login = f"gear-{secrets.token_hex(3)}"
    live_server.flask("users", "create", login, "--password", PASSWORD, "--admin")
    sign_in(page, login, PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/login"))

    page.goto(f"/admin/users?q={login}")
    page.locator("tr[data-user-id]").get_by_role("link", name=login, exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/users/\d+$"))
    profile_url = page.url
    expect(otp_tab_link(page)).to_be_visible()

    # The gear's menu opens without JavaScript: a <details> element.
    gear = open_gear(page)
    expect(gear.get_by_role("button", name="Disable custom form settings")).to_have_count(0)
    gear.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customize form appearance")
    check_fields_are_labelled(page)
    otp_row = page.locator('fieldset[data-layout-tab="otp"]')
    otp_row.get_by_label("Shown").uncheck()
    screenshot(page, "gear-dialog-otp-unticked")
    page.get_by_role("button", name="Save").first.click()

    expect(page).to_have_url(profile_url)
    expect(page.locator(".flashes")).to_contain_text(message("layout.saved"))
    expect(otp_tab_link(page)).to_have_count(0)
    screenshot(page, "gear-otp-tab-hidden")

    # Switching custom settings off shows the default view, with the tab; on hides it again.
    open_gear(page).get_by_role("button", name="Disable custom form settings").click()
    expect(page.locator(".flashes")).to_contain_text(message("layout.disabled"))
    expect(otp_tab_link(page)).to_be_visible()
    open_gear(page).get_by_role("button", name="Enable custom form settings").click()
    expect(page.locator(".flashes")).to_contain_text(message("layout.enabled"))
    expect(otp_tab_link(page)).to_have_count(0)

    # Bring it back in Settings.
    open_gear(page).get_by_role("link", name="Settings").click()
    otp_row = page.locator('fieldset[data-layout-tab="otp"]')
    expect(otp_row.get_by_label("Shown")).not_to_be_checked()
    otp_row.get_by_label("Shown").check()
    page.get_by_role("button", name="Save").first.click()
    expect(page).to_have_url(profile_url)
    expect(otp_tab_link(page)).to_be_visible()
    otp_tab_link(page).click()
    expect(page.locator("#panel-otp")).to_be_visible()
    screenshot(page, "gear-otp-tab-back")

    # And reset: the settings are gone, so the menu offers no switch any more.
    open_gear(page).get_by_role("link", name="Settings").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset to the built-in layout").click()
    expect(page.locator(".flashes")).to_contain_text(message("layout.reset"))
    expect(otp_tab_link(page)).to_be_visible()
    gear = open_gear(page)
    expect(gear.get_by_role("button", name="Disable custom form settings")).to_have_count(0)
