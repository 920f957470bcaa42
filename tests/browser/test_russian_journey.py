"""The console in Russian for an employee, and in English in UTC for the administrator.

An employee whose browser asks for Russian (`locale="ru-RU"`, so Accept-Language: ru)
finds the sign-in page in Russian, chooses Russian and Europe/Moscow on My page,
connects a phone and reads on the Security page, in Russian, that two-step is on since a
time in Moscow. An administrator with an English browser then reads the same events in
English, with times in UTC (the console's default zone, the administrator's own). A
signed-out visitor on an English browser switches the sign-in page to Russian.

Texts are found through the catalogs, never written here: `message` for the English and
`russian` (the translation file read with Babel) for the Russian. Times are checked
against the `<time datetime>` instant the page carries.

The module has a console of its own (`module_live_server`): it switches two-step
authentication on, which the other browser tests must never see.

Screenshots go to the artifacts folder as in every journey; with UPDATE_SCREENSHOTS=1
they are also written to docs/screenshots/, the pictures the README shows.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import string
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from playwright.sync_api import Locator, Page, expect

from security.messages import message
from tests.support.browser import sign_in as fill_sign_in_form
from tests.support.servers import ROOT

pytestmark = pytest.mark.browser

RUSSIAN_PO = ROOT / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "russian journey 123"
MOSCOW = "Europe/Moscow"
# Moscow keeps UTC+3 all year (no summer time since 2014).
MOSCOW_OFFSET = timedelta(hours=3)
PHONE_WIDTH = 390


@pytest.fixture(scope="module")
def live_server(module_live_server: Any) -> Any:
    """This module's own console (see the module docstring)."""
    return module_live_server


# --------------------------------------------------------------------------- catalogs


@cache
def _russian_entries() -> dict[str, Message]:
    with RUSSIAN_PO.open("rb") as handle:
        catalog = read_po(handle)
    return {str(entry.context): entry for entry in catalog if entry.id and entry.context}


def russian(key: str, **values: object) -> str:
    """The Russian text of catalog key `key` (the entry's msgctxt), filled with `values`."""
    entry = _russian_entries().get(key)
    assert entry is not None, f"{key} has no entry in {RUSSIAN_PO.relative_to(ROOT)}"
    assert isinstance(entry.string, str), f"{key} is a plural entry: give it its number"
    assert entry.string and not entry.fuzzy, f"{key} is not translated (or fuzzy)"
    return entry.string.format(**values) if values else entry.string


def sentence_pattern(template: str, **parts: str) -> re.Pattern[str]:
    """A catalog sentence as a regex: its words literally, each {name} as `parts[name]`."""
    regex = ""
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        regex += re.escape(literal)
        if name is not None:
            regex += parts[name]
    return re.compile(f"^{regex}$")


def plain(text: str) -> str:
    """Text with every run of spaces (no-break and narrow ones too) as one space."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- helpers


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def totp_code(secret: str) -> str:
    """The phone's code now, from oathtool: an implementation independent of the console's."""
    oathtool = shutil.which("oathtool")
    if oathtool is None:
        pytest.skip("oathtool is missing (see the need_packages line of .ci/run)")
    return subprocess.run(
        [oathtool, "--totp", "-b", secret], check=True, capture_output=True, text=True, timeout=30
    ).stdout.strip()


@pytest.fixture
def picture(screenshot: Callable[..., Path]) -> Callable[..., Path]:
    """Save a screenshot as every journey does; with UPDATE_SCREENSHOTS=1 into docs/ too."""

    def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        path = screenshot(page, name, full_page=full_page)
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
        return path

    return take


def shown_instant(time_element: Locator) -> datetime:
    """The UTC instant a <time datetime="…Z"> element stands for."""
    stamp = time_element.get_attribute("datetime") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), stamp
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def assert_time_in(time_element: Locator, zone: str, language: str) -> str:
    """Check a time reads as its instant in `zone`, in `language`, with the zone named."""
    instant = shown_instant(time_element)
    shown = plain(time_element.inner_text())
    expected = plain(
        f"{format_datetime(instant, 'medium', tzinfo=ZoneInfo(zone), locale=language)} ({zone})"
    )
    assert shown == expected, f"a time reads {shown!r}; in {zone}, {language}: {expected!r}"
    if zone == MOSCOW:
        # Independently of Babel: the clock reads three hours past UTC.
        clock = (instant + MOSCOW_OFFSET).strftime("%H:%M:%S")
        assert clock in shown, f"{shown!r} is not {instant:%H:%M:%S} UTC in Moscow ({clock})"
    return shown


def expect_russian_page(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "ru")


def page_width(page: Page) -> int:
    """How wide the page is drawn: more than the window means scrolling sideways."""
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def switch_two_step_on(page: Page) -> None:
    """As a signed-in administrator: the global switch of two-step authentication, on."""
    page.goto("/admin/security/otp")
    if page.locator("[data-otp-enabled=no]").count():
        page.get_by_role("button", name=message("admin.enable_two_step")).click()
    expect(page.locator("[data-otp-enabled=yes]")).to_be_visible()


# --------------------------------------------------------------------------- journeys


def test_employee_connects_in_russian_and_the_administrator_reads_it_in_english(
    new_context: Callable[..., Any],
    live_server: Any,
    picture: Callable[..., Path],
) -> None:
    # The administrator, on an English browser, switches two-step on for the console.
    admin = new_context(locale="en-US").new_page()
    fill_sign_in_form(admin, "admin", live_server.admin_password)
    expect(admin).to_have_url(re.compile(r"/admin/$"))
    expect(admin.locator("html")).to_have_attribute("lang", "en")
    switch_two_step_on(admin)

    login = unique("ivan")
    live_server.flask("users", "create", login, "--password", PASSWORD, "--name", "Иван")

    # An employee whose browser asks for Russian: the sign-in page is in Russian.
    page = new_context(locale="ru-RU").new_page()
    page.goto("/login")
    expect_russian_page(page)
    assert russian("login.title") != message("login.title")
    expect(page.get_by_role("heading", level=1)).to_have_text(russian("login.title"))
    expect(page).to_have_title(re.compile("^" + re.escape(russian("login.title")) + " · "))
    expect(page.get_by_role("button", name=russian("login.submit"))).to_be_visible()
    picture(page, "ru-login")

    page.get_by_label(russian("form.field.login"), exact=True).fill(login)
    page.get_by_label(russian("form.field.password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=russian("login.submit")).click()
    expect(page).to_have_url(re.compile(r"/my/$"))
    expect_russian_page(page)

    # My page → Language and time zone: Russian, Europe/Moscow.
    page.get_by_role("link", name=russian("nav.settings"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/my/settings$"))
    expect(page.get_by_role("heading", level=2)).to_have_text(russian("preferences.title"))
    page.get_by_label(russian("form.field.language"), exact=True).select_option("ru")
    page.get_by_label(russian("form.field.timezone"), exact=True).fill(MOSCOW)
    page.get_by_role("button", name=russian("form.save")).click()
    expect(page).to_have_url(re.compile(r"/my/settings$"))
    expect(page.locator(".flashes")).to_contain_text(russian("preferences.saved"))
    expect_russian_page(page)
    expect(page.get_by_label(russian("form.field.language"), exact=True)).to_have_value("ru")
    expect(page.get_by_label(russian("form.field.timezone"), exact=True)).to_have_value(MOSCOW)
    now_fact = page.locator("[data-fact=now]")
    expect(now_fact).to_contain_text(f"({MOSCOW})")
    now_shown = assert_time_in(now_fact.locator("time"), MOSCOW, "ru")
    assert plain(now_fact.inner_text()) == plain(russian("preferences.now_in_zone", time=now_shown))
    picture(page, "ru-my-settings")

    # My page → Security → Connect, on a phone-wide window.
    page.get_by_role("link", name=russian("mypage.security"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/my/security$"))
    two_step = page.locator("#two-step")
    expect(two_step).to_have_attribute("data-otp-status", "not_configured")
    expect(two_step.get_by_role("heading", level=2)).to_have_text(russian("otp.two_step"))
    two_step.get_by_role("link", name=russian("otp.connect")).click()
    expect(page).to_have_url(re.compile(r"/my/security/connect$"))
    expect_russian_page(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(russian("otp.connect_title"))
    steps = page.locator("ol.connect-steps")
    expect(steps).to_contain_text(russian("otp.step_install"))
    expect(steps).to_contain_text(russian("otp.enter_key_by_hand"))
    # The server's clock, in UTC and in the employee's zone.
    server_times = steps.locator("p.muted time")
    expect(server_times).to_have_count(2)
    assert_time_in(server_times.nth(0), "UTC", "ru")
    assert_time_in(server_times.nth(1), MOSCOW, "ru")
    secret = page.locator(".secret code").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", secret), secret
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    # Checked at the end, so that the rest of the journey still runs and shows.
    connect_width_on_phone = page_width(page)
    picture(page, "ru-phone-connect")
    page.set_viewport_size({"width": 1280, "height": 860})

    page.get_by_label(russian("otp.code_from_app"), exact=True).fill(
        totp_code(secret.replace(" ", ""))
    )
    page.get_by_role("button", name=russian("otp.connect")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(russian("otp.your_recovery_codes"))
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name=russian("form.continue")).click()

    # The Security page says, in Russian, that two-step is on since a time in Moscow.
    expect(page).to_have_url(re.compile(r"/my/security$"))
    expect_russian_page(page)
    expect(two_step).to_have_attribute("data-otp-status", "active")
    state = two_step.locator("p.state-on")
    expect(state).to_contain_text(f"({MOSCOW})")
    since = assert_time_in(state.locator("time"), MOSCOW, "ru")
    said = plain(state.inner_text())
    assert sentence_pattern(
        plain(russian("mypage.active_since")),
        state=re.escape(russian("status.active")),
        since=re.escape(since),
    ).match(said), f"the Security page says {said!r}"
    picture(page, "ru-my-security")

    # The administrator, still in English, reads the employee's events in UTC.
    admin.goto(f"/admin/users?q={login}")
    row = admin.locator("tr[data-user-id]").filter(has=admin.get_by_role("link", name=login))
    user_id = row.get_attribute("data-user-id")
    admin.goto(f"/admin/users/{user_id}?tab=events")
    expect(admin.locator("html")).to_have_attribute("lang", "en")
    events_panel = admin.locator("#panel-events")
    check_events_in_english_utc(events_panel, login)

    admin.goto(f"/admin/events?user={login}")
    expect(admin.locator("html")).to_have_attribute("lang", "en")
    expect(admin.get_by_role("heading", level=1)).to_have_text(message("admin.events"))
    check_events_in_english_utc(admin.locator("main"), login)
    picture(admin, "en-admin-events")

    # Russian words are longer than English ones: the connect page must still fit a phone.
    assert connect_width_on_phone <= PHONE_WIDTH, (
        f"/my/security/connect in Russian is {connect_width_on_phone}px wide on a "
        f"{PHONE_WIDTH}px phone: it scrolls sideways (a button such as "
        f"{russian('otp.open_in_app')!r} that does not wrap)"
    )


def check_events_in_english_utc(where: Locator, login: str) -> None:
    """The user's connection and preference change, named in English, at times in UTC."""
    table = where.locator("table.events")
    expected = {
        "otp_connected": message("event.otp_connected"),
        "preferences_changed": message("event.preferences_changed"),
    }
    for kind, label in expected.items():
        row = table.locator(f"tr[data-event-type={kind}]").first
        expect(row).to_be_visible()
        expect(row.locator("td").nth(1)).to_have_text(label)
        expect(row.locator("td").nth(4)).to_have_text(login)
    expect(table.locator("tr[data-event-type=preferences_changed] td").nth(6)).to_contain_text(
        MOSCOW
    )
    expect(table).not_to_contain_text(f"({MOSCOW})")
    times = table.locator("tbody time")
    assert times.count() >= len(expected)
    for index in range(times.count()):
        assert_time_in(times.nth(index), "UTC", "en")


def test_a_visitor_on_an_english_browser_switches_the_sign_in_page_to_russian(
    new_context: Callable[..., Any],
) -> None:
    page = new_context(locale="en-US").new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(message("login.title"))
    switch = page.get_by_role("navigation", name=message("preferences.switch_language"))
    expect(switch.get_by_role("button", name=message("language.en"))).to_have_attribute(
        "aria-current", "true"
    )

    switch.get_by_role("button", name=message("language.ru")).click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect_russian_page(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(russian("login.title"))
    expect(page.get_by_label(russian("form.field.login"), exact=True)).to_be_visible()
    switch = page.get_by_role("navigation", name=russian("preferences.switch_language"))
    expect(switch.get_by_role("button", name=russian("language.ru"))).to_have_attribute(
        "aria-current", "true"
    )

    # The choice outlives the page: the sign-in page stays Russian on the next visit.
    page.goto("/login")
    expect_russian_page(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(russian("login.title"))
