"""The gear dialog with JavaScript in Chromium: drag a tab, move in place, live preview.

static/form_settings.js reorders rows in place and renumbers the plain fields, so the
form posts what the dialog without JavaScript would. The test signs in as an
administrator of its own, so that its personal settings change nobody else's view.
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

PASSWORD = "gear drag password 1"
OTP_TAB = "Two-step authentication"


def profile_tabs(page: Page) -> list[str]:
    links = page.get_by_role("navigation", name="Tabs").get_by_role("link")
    return [text.strip() for text in links.all_inner_texts()]


def preview_tabs(page: Page) -> list[str]:
    return [text.strip() for text in page.locator(".preview-tabs li").all_inner_texts()]


def test_administrator_drags_a_tab_renames_one_and_the_preview_follows(
    page: Page,
    live_server: Any,
    console_errors: Any,
    screenshot: Callable[..., Any],
) -> None:
    login = f"drag-{secrets.token_hex(3)}"
    live_server.flask("users", "create", login, "--password", PASSWORD, "--admin")
    sign_in(page, login, PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/login"))

    page.goto(f"/admin/users?q={login}")
    page.locator("tr[data-user-id]").get_by_role("link", name=login, exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/users/\d+$"))
    profile_url = page.url
    before = profile_tabs(page)
    assert before[0] == "User" and OTP_TAB in before

    page.locator("details.gear summary").click()
    page.locator("details.gear").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customize form appearance")
    dialog_url = page.url
    preview = page.locator(".preview-tabs li")
    expect(preview).to_have_text(before)

    # Rename: the preview follows each keystroke, and so do the "On tab" choices.
    groups = page.locator('fieldset[data-layout-tab="groups"]')
    groups.get_by_label("Tab label").fill("Memberships")
    expect(page.locator('.preview-tabs li[data-preview-tab="groups"]')).to_have_text("Memberships")
    expect(page.locator('select[name$="-tab"] option[value="groups"]').first).to_have_text(
        "Memberships"
    )

    # Hiding greys the tab out in the preview.
    events = page.locator('fieldset[data-layout-tab="events"]')
    events.get_by_label("Shown").uncheck()
    expect(page.locator('.preview-tabs li[data-preview-tab="events"]')).to_have_class(
        "preview-hidden"
    )
    events.get_by_label("Shown").check()
    expect(page.locator('.preview-tabs li[data-preview-tab="events"]')).not_to_have_class(
        "preview-hidden"
    )

    # Drag the two-step tab above the first one ("User"): it becomes the first tab.
    # Playwright's drag does not scroll the page while a button is held: show it all.
    page.set_viewport_size({"width": 1280, "height": 2800})
    otp = page.locator('fieldset[data-layout-tab="otp"]')
    main = page.locator('fieldset[data-layout-tab="main"]')
    otp.locator(".drag-handle").first.drag_to(main, target_position={"x": 40, "y": 8})
    expect(page.locator(".preview-tabs li").first).to_have_text(OTP_TAB)
    expect(page.locator("fieldset[data-layout-tab]").first).to_have_attribute(
        "data-layout-tab", "otp"
    )
    # The fields are renumbered as a fresh dialog would draw them.
    expect(page.locator('input[name="tabs-0-id"]')).to_have_value("otp")
    expect(page.locator('input[name="tabs-0-position"]')).to_have_value("1")
    expect(page.locator('input[name="tabs-1-id"]')).to_have_value("main")
    expect(page.locator('input[name="tabs-1-position"]')).to_have_value("2")
    expect(otp.get_by_role("button", name="Move up")).to_be_disabled()

    # Move down happens in place, without a round trip, and keeps the focus on the row.
    page.locator('fieldset[data-layout-tab="personal"]').get_by_role(
        "button", name="Move down"
    ).click()
    expect(page).to_have_url(dialog_url)
    expected = [OTP_TAB, "User", "Memberships", "Security events", "Personal data"]
    expect(preview).to_have_text(expected)
    screenshot(page, "gear-dragdrop-dialog")

    page.get_by_role("button", name="Save").first.click()
    expect(page).to_have_url(profile_url)
    expect(page.locator(".flashes")).to_contain_text(message("layout.saved"))
    assert profile_tabs(page) == expected
    screenshot(page, "gear-dragdrop-profile")
    assert console_errors.unexpected() == []
