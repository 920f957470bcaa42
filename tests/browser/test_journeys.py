"""The seven two-step journeys in Chromium, and an accessibility check with axe-core.

The module has a console of its own on a fresh database (`module_live_server`): its
journeys switch two-step authentication on, make it mandatory for Administrators and
change the default algorithm, which the other browser tests must never see. The tests
run in the order written, like the story of one console: the administrator switches
two-step on (1) and connects at the next sign-in (2); employees connect, sign in, get
locked and unlocked, are exempted for a day, and are remembered (3-7). Each journey
puts what it needs in place itself, so it also passes when run alone with -k.

Codes come from `oathtool`, an implementation independent of the console's; the QR code
is read from a screenshot with `zbarimg`; printed recovery codes are checked with
`pdftotext`.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from security.messages import message
from tests.support.browser import sign_in as fill_sign_in_form

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe.min.js"
PASSWORD = "journey password 123"
TOTP_STEP = 30
RECOVERY_CODE = re.compile(r"^[a-z0-9]{5}-[a-z0-9]{5}$")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


@pytest.fixture(scope="module")
def live_server(module_live_server: Any) -> Any:
    """This module's own console (see the module docstring)."""
    return module_live_server


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is missing (see the need_packages line of .ci/run)")
    return path


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


# --------------------------------------------------------------------------- the phone


@dataclass
class Authenticator:
    """An authenticator app holding one account: codes come from oathtool."""

    secret: str
    kind: str = "totp"
    counter: int = 0  # the next HOTP counter
    last_step: int = -1  # the last TOTP time step whose code was used

    def code(self) -> str:
        """Return the next code the console has not seen yet."""
        need("oathtool")
        if self.kind == "hotp":
            counter, self.counter = self.counter, self.counter + 1
            return run("oathtool", "--hotp", "-b", self.secret, "-c", str(counter)).strip()
        # A time step's code is accepted once; the console's window (±1 step) takes the
        # next step's code at once, and any later one after a bounded wait.
        now_step = int(time.time()) // TOTP_STEP
        step = max(now_step, self.last_step + 1)
        if step > now_step + 1:
            time.sleep(max(0.0, (step - 1) * TOTP_STEP - time.time()) + 0.5)
        self.last_step = step
        return run("oathtool", "--totp", "-b", self.secret, "--now", f"@{step * TOTP_STEP}").strip()

    def current_codes(self) -> set[str]:
        """Return the codes of the steps the console accepts now (to make a wrong one)."""
        now_step = int(time.time()) // TOTP_STEP
        return {
            run("oathtool", "--totp", "-b", self.secret, "--now", f"@{s * TOTP_STEP}").strip()
            for s in range(now_step - 2, now_step + 3)
        }


@dataclass
class Account:
    login: str
    password: str
    app: Authenticator | None = None
    recovery_codes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- page helpers


def enter_password(page: Page, login: str, password: str) -> None:
    fill_sign_in_form(page, login, password)
    expect(page).not_to_have_url(re.compile(r"/login(\?.*)?$"))


def sign_in(page: Page, account: Account, screenshot: Callable[..., Path]) -> None:
    """Sign in to the end, whatever the console asks: a code, or a forced connection."""
    enter_password(page, account.login, account.password)
    if "/login/connect" in page.url:
        connect_from_qr(page, account, screenshot)
        page.get_by_role("link", name="Continue").click()
    elif "/login/otp" in page.url:
        assert account.app is not None, f"{account.login} is asked for a code but has no app"
        page.get_by_label(re.compile("One-time password")).fill(account.app.code())
        page.get_by_role("button", name="Continue").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def read_qr(page: Page, screenshot: Callable[..., Path], name: str) -> str:
    """Return the otpauth:// URI that zbarimg reads from a screenshot of the page."""
    need("zbarimg")
    path = screenshot(page, name)
    found = run("zbarimg", "--quiet", "--raw", str(path)).strip().splitlines()
    assert len(found) == 1, f"expected one QR code in {path.name}, zbarimg read {found}"
    return found[0]


def app_from_uri(uri: str) -> Authenticator:
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth", uri
    query = parse_qs(parts.query)
    return Authenticator(
        secret=query["secret"][0], kind=parts.netloc, counter=int(query.get("counter", ["0"])[0])
    )


def fill_connect_codes(page: Page, app: Authenticator) -> None:
    if app.kind == "hotp":
        page.get_by_label("First code").fill(app.code())
        page.get_by_label("Second code").fill(app.code())
    else:
        page.get_by_label("Code from the app").fill(app.code())
    page.get_by_role("button", name="Connect").click()


def keep_recovery_codes(page: Page, account: Account) -> None:
    codes = page.locator("ol.recovery-codes li code")
    expect(codes).to_have_count(10)
    account.recovery_codes = codes.all_inner_texts()
    assert all(RECOVERY_CODE.match(code) for code in account.recovery_codes)


def connect_from_qr(page: Page, account: Account, screenshot: Callable[..., Path]) -> str:
    """Scan the QR code of a connection page, enter the codes, keep the recovery codes."""
    uri = read_qr(page, screenshot, f"connect-qr-{account.login}")
    account.app = app_from_uri(uri)
    # The manual key, the link and the QR code are one and the same secret.
    shown = page.locator(".secret code").inner_text()
    assert shown.replace(" ", "") == account.app.secret
    expect(page.locator('a[href^="otpauth://"]')).to_have_attribute("href", uri)
    fill_connect_codes(page, account.app)
    keep_recovery_codes(page, account)
    return uri


def connect_on_my_page(page: Page, account: Account) -> None:
    """Connect the default algorithm (TOTP) on My page from the secret typed by hand."""
    page.goto("/my/security")
    page.locator("#two-step").get_by_role("link", name="Connect").click()
    expect(page).to_have_url(re.compile(r"/my/security/connect$"))
    secret = page.locator(".secret code").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", secret), secret
    account.app = Authenticator(secret.replace(" ", ""))
    fill_connect_codes(page, account.app)
    keep_recovery_codes(page, account)
    page.get_by_role("link", name="Continue").click()
    expect(page.locator("#two-step")).to_have_attribute("data-otp-status", "active")


def configure(page: Page, **values: Any) -> None:
    """As a signed-in administrator: switch two-step on and set these parameters."""
    page.goto("/admin/security/otp")
    if page.locator("[data-otp-enabled=no]").count():
        page.get_by_role("button", name="Enable two-step authentication").click()
        expect(page.locator("[data-otp-enabled=yes]")).to_be_visible()
    if not values:
        return
    page.goto("/admin/security/otp?tab=parameters")
    form = page.locator("#panel-parameters form")
    for name, value in values.items():
        if name == "mandatory_groups":
            for box in form.locator("input[name=mandatory_groups]").all():
                box.set_checked(int(box.get_attribute("value") or 0) in value)
        elif isinstance(value, bool):
            form.locator(f"input[name={name}]").set_checked(value)
        elif name == "default_type":
            form.locator("select[name=default_type]").select_option(value)
        else:
            form.locator(f"[name={name}]").fill(str(value))
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".flashes")).to_contain_text(
        re.compile(
            f"{re.escape(message('otp.settings_saved'))}|"
            f"{re.escape(message('otp.settings_unchanged'))}"
        )
    )


def open_user_tab(page: Page, login: str, tab: str) -> str:
    """As an administrator: find the user in the list and open a tab of the profile."""
    page.goto(f"/admin/users?q={login}")
    row = page.locator("tr[data-user-id]").filter(has=page.get_by_role("link", name=login))
    user_id = row.get_attribute("data-user-id")
    page.goto(f"/admin/users/{user_id}?tab={tab}")
    return str(user_id)


def no_sideways_scrolling(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide on a 390px phone"


def focus_by_tabbing(page: Page, target: Locator, limit: int = 400) -> None:
    """Press Tab until `target` has the focus, as a keyboard user does; check it shows."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            outline = target.evaluate(
                "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth] }"
            )
            assert outline[0] != "none" and outline[1] != "0px", f"no visible focus: {outline}"
            return
    raise AssertionError(f"Tab never reached {target}")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def admin(live_server: Any) -> Account:
    """The first administrator, with the password `users ensure-admin` printed."""
    return Account("admin", live_server.admin_password)


@pytest.fixture
def admin_page(
    new_context: Callable[..., Any], admin: Account, screenshot: Callable[..., Path]
) -> Page:
    page = new_context().new_page()
    sign_in(page, admin, screenshot)
    return page


def employee(live_server: Any, prefix: str) -> Account:
    account = Account(unique(prefix), PASSWORD)
    live_server.flask("users", "create", account.login, "--password", PASSWORD)
    return account


# --------------------------------------------------------------------------- journeys


def test_1_administrator_enables_two_step_hotp_mandatory_for_administrators(
    page: Page, admin: Account, screenshot: Callable[..., Path]
) -> None:
    sign_in(page, admin, screenshot)
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name=re.compile("Two-step authentication")
    ).click()
    expect(page).to_have_url(re.compile(r"/admin/security/otp$"))
    expect(page.locator("[data-otp-enabled=no]")).to_have_text("Two-step authentication disabled")
    page.get_by_role("button", name="Enable two-step authentication").click()
    expect(page.locator("[data-otp-enabled=yes]")).to_have_text("Two-step authentication enabled")
    expect(page.get_by_role("status").first).to_contain_text(message("otp.enabled_globally"))
    screenshot(page, "journey1-settings-enabled")

    page.get_by_role("navigation", name="Tabs").get_by_role("link", name="Parameters").click()
    page.get_by_label("Default password generation algorithm").select_option("hotp")
    page.get_by_label("Always require two-step authentication").check()
    page.get_by_label("Days left to connect").fill("0")
    groups = page.get_by_role("group", name="Users who always have to use two-step authentication")
    groups.get_by_label("Administrators").check()
    groups.get_by_label("Employees").uncheck()
    screenshot(page, "journey1-settings-parameters")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flashes")).to_contain_text(message("otp.settings_saved"))
    expect(page.get_by_label("Default password generation algorithm")).to_have_value("hotp")

    page.goto("/admin/")
    expect(page.locator("[data-fact=default-type]")).to_contain_text("HOTP")
    expect(page.locator("[data-fact=mandatory]")).to_have_text(
        "Yes, for Administrators, with 0 days to connect"
    )


def test_2_administrator_is_made_to_connect_and_keeps_the_recovery_codes(
    page: Page,
    admin: Account,
    screenshot: Callable[..., Path],
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    need("pdftotext")
    enter_password(page, admin.login, admin.password)
    if "/login/connect" not in page.url:
        pytest.skip("journey 1 did not run: two-step is not mandatory for the administrator")
    expect(page.get_by_role("heading", level=1)).to_have_text(message("otp.must_connect"))

    uri = connect_from_qr(page, admin, screenshot)
    assert uri.startswith("otpauth://hotp/"), uri
    assert admin.app is not None and admin.app.counter == 2
    screenshot(page, "journey2-recovery-codes")

    with page.expect_download() as info:
        page.get_by_role("link", name="Save to text file").click()
    download = info.value
    assert download.suggested_filename == "recovery_codes.txt"
    saved = tmp_path / "recovery_codes.txt"
    download.save_as(saved)
    assert saved.read_text().splitlines() == [
        f"{n}. {code}" for n, code in enumerate(admin.recovery_codes, start=1)
    ]

    # Printing shows the codes, the issuer, the login and the date: nothing else.
    page.emulate_media(media="print")
    pdf = artifacts_dir / "journey2-recovery-codes-printed.pdf"
    page.pdf(path=str(pdf))
    page.emulate_media(media="screen")
    meta = page.locator(".print-meta").inner_text()
    assert "Company portal" in meta and admin.login in meta, meta
    # When they were made, in the reader's zone, named ("Nov 29, 2026, 6:05:16 PM (UTC)").
    assert re.search(r"\b20\d\d, \d{1,2}:\d\d:\d\d\W[AP]M \(UTC\)", meta), meta
    words = run("pdftotext", "-layout", str(pdf), "-").split()
    # Two columns: the text reads across them, so compare the codes as a set.
    printed = [w for w in words if RECOVERY_CODE.match(w)]
    assert sorted(printed) == sorted(admin.recovery_codes), printed
    allowed = {*admin.recovery_codes, *meta.split(), *(f"{n}." for n in range(1, 11))}
    extra = [w for w in words if w not in allowed]
    assert extra == [], f"the printed page shows more than codes, issuer, login, date: {extra}"
    assert set(meta.split()) <= set(words), "the printed page lacks the issuer, login or date"

    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    # The next sign-in asks for the next counter's code.
    sign_out(page)
    enter_password(page, admin.login, admin.password)
    expect(page).to_have_url(re.compile(r"/login/otp$"))
    page.get_by_label(re.compile("One-time password")).fill(admin.app.code())
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_3_employee_connects_totp_on_the_phone_and_signs_in_with_a_code_then_a_recovery_code(
    admin_page: Page,
    new_context: Callable[..., Any],
    live_server: Any,
    screenshot: Callable[..., Path],
) -> None:
    configure(admin_page, default_type="totp", allow_recovery_codes=True)
    worker = employee(live_server, "emma")
    phone = new_context(**PHONE, permissions=["clipboard-read", "clipboard-write"]).new_page()

    # Keyboard only: the login field has the focus, Tab moves on, Enter submits.
    phone.goto("/login")
    expect(phone.get_by_label("Login")).to_be_focused()
    phone.keyboard.type(worker.login)
    phone.keyboard.press("Tab")
    phone.keyboard.type(worker.password)
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/my/$"))

    phone.get_by_role("link", name="Security").first.click()
    expect(phone.locator("#two-step")).to_have_attribute("data-otp-status", "not_configured")
    phone.locator("#two-step").get_by_role("link", name="Connect").click()
    expect(phone).to_have_url(re.compile(r"/my/security/connect$"))
    steps = phone.locator("ol.connect-steps")
    expect(steps).to_contain_text("Any app")
    expect(steps).to_contain_text("date and time automatically")
    secret = phone.locator(".secret code").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", secret), secret
    no_sideways_scrolling(phone)
    screenshot(phone, "journey3-phone-connect")

    # The code is pasted as the app shows it, "123 456".
    worker.app = Authenticator(secret.replace(" ", ""))
    code = worker.app.code()
    field = phone.get_by_label("Code from the app")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    expect(field).to_have_attribute("inputmode", "numeric")
    phone.evaluate("text => navigator.clipboard.writeText(text)", f"{code[:3]} {code[3:]}")
    field.press("Control+V")
    expect(field).to_have_value(f"{code[:3]} {code[3:]}")
    phone.get_by_role("button", name="Connect").click()
    keep_recovery_codes(phone, worker)
    expect(phone.locator("main")).to_contain_text("somewhere safe")
    no_sideways_scrolling(phone)
    screenshot(phone, "journey3-phone-recovery-codes")
    phone.get_by_role("link", name="Continue").click()
    expect(phone.locator("#two-step")).to_have_attribute("data-otp-status", "active")
    sign_out(phone)

    # Signing in asks for a code: the field has the focus, Enter submits.
    enter_password(phone, worker.login, worker.password)
    expect(phone).to_have_url(re.compile(r"/login/otp$"))
    code_field = phone.get_by_label(re.compile("One-time password"))
    expect(code_field).to_be_focused()
    expect(code_field).to_have_attribute("autocomplete", "one-time-code")
    expect(code_field).to_have_attribute("inputmode", "numeric")
    no_sideways_scrolling(phone)
    screenshot(phone, "journey3-phone-code-step")
    phone.keyboard.type(worker.app.code())
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/my/$"))
    sign_out(phone)

    # A recovery code instead, typed in capitals: accepted once.
    recovery = worker.recovery_codes[3]
    enter_password(phone, worker.login, worker.password)
    phone.get_by_label(re.compile("One-time password")).fill(recovery.upper())
    phone.get_by_role("button", name="Continue").click()
    expect(phone).to_have_url(re.compile(r"/my/$"))
    expect(phone.locator(".flashes")).to_contain_text(message("otp.recovery_used", left=9))
    sign_out(phone)

    enter_password(phone, worker.login, worker.password)
    phone.get_by_label(re.compile("One-time password")).fill(recovery)
    phone.get_by_role("button", name="Continue").click()
    expect(phone).to_have_url(re.compile(r"/login/otp$"))
    code_field = phone.get_by_label(re.compile("One-time password"))
    expect(code_field).to_have_attribute("aria-invalid", "true")
    described = (code_field.get_attribute("aria-describedby") or "").split()
    errors = [phone.locator(f"#{id_}").inner_text() for id_ in described]
    assert message("otp.code_incorrect") in errors, errors
    screenshot(phone, "journey3-phone-recovery-code-refused")


def test_4_five_wrong_codes_lock_the_step_until_the_administrator_unlocks(
    admin_page: Page,
    new_context: Callable[..., Any],
    live_server: Any,
    screenshot: Callable[..., Path],
) -> None:
    configure(admin_page, default_type="totp", max_attempts=5)
    worker = employee(live_server, "felix")
    page = new_context().new_page()
    enter_password(page, worker.login, worker.password)
    connect_on_my_page(page, worker)
    assert worker.app is not None
    sign_out(page)

    enter_password(page, worker.login, worker.password)
    wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in worker.app.current_codes())
    statuses = []
    for _ in range(5):
        page.get_by_label(re.compile("One-time password")).fill(wrong)
        with page.expect_response(
            lambda r: r.url.endswith("/login/otp") and r.request.method == "POST"
        ) as answer:
            page.get_by_role("button", name="Continue").click()
        statuses.append(answer.value.status)
    assert statuses == [200, 200, 200, 200, 429]
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        re.compile(r"^Too many attempts; try again after \d{1,2}:\d\d\W[AP]M \(UTC\)\.$")
    )
    screenshot(page, "journey4-locked")

    # While locked, even the right code is refused.
    page.get_by_label(re.compile("One-time password")).fill(worker.app.code())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many attempts")

    open_user_tab(admin_page, worker.login, "otp")
    tab = admin_page.locator("#panel-otp .otp-tab")
    expect(tab).to_have_attribute("data-otp-status", "locked")
    screenshot(admin_page, "journey4-admin-unlock")
    tab.get_by_role("button", name="Unlock").click()
    expect(admin_page.locator(".flashes")).to_contain_text(message("otp.unlocked"))
    expect(admin_page.locator("#panel-otp .otp-tab")).to_have_attribute("data-otp-status", "active")

    sign_in(page, worker, screenshot)
    expect(page).to_have_url(re.compile(r"/my/$"))


def test_5_administrator_disables_two_step_of_an_employee_for_one_day(
    admin_page: Page,
    new_context: Callable[..., Any],
    live_server: Any,
    screenshot: Callable[..., Path],
) -> None:
    configure(admin_page, default_type="totp")
    worker = employee(live_server, "greta")
    page = new_context().new_page()
    enter_password(page, worker.login, worker.password)
    connect_on_my_page(page, worker)
    sign_out(page)

    open_user_tab(admin_page, worker.login, "otp")
    form = admin_page.locator("form[action$='/otp/disable']")
    form.get_by_label("Days").fill("1")
    form.get_by_label(re.compile("I understand")).check()
    # The tick is the confirmation: no second question in a dialog.
    form.get_by_role("button", name="Disable").click()
    expect(admin_page.locator(".flashes")).to_contain_text(
        "Two-step authentication is disabled until"
    )
    expect(admin_page.locator("#panel-otp .otp-tab")).to_have_attribute(
        "data-otp-status", "disabled"
    )
    screenshot(admin_page, "journey5-admin-disabled-for-a-day")

    enter_password(page, worker.login, worker.password)
    expect(page).to_have_url(re.compile(r"/my/$"))
    page.goto("/my/security")
    expect(page.locator("#two-step")).to_contain_text("Disabled until")
    screenshot(page, "journey5-employee-security")


def test_6_gear_hides_the_two_step_tab_for_one_administrator_only_with_the_keyboard(
    admin_page: Page,
    new_context: Callable[..., Any],
    live_server: Any,
    screenshot: Callable[..., Path],
) -> None:
    page = admin_page
    other = Account(unique("olga"), PASSWORD)
    live_server.flask("users", "create", other.login, "--password", PASSWORD, "--admin")
    user_id = open_user_tab(page, other.login, "main")
    profile = page.url
    otp_tab = page.get_by_role("navigation", name="Tabs").get_by_role(
        "link", name="Two-step authentication"
    )
    expect(otp_tab).to_be_visible()

    # Keyboard only: Tab to the gear, Enter opens it, Tab to Settings, Enter.
    gear = page.locator("details.gear summary")
    focus_by_tabbing(page, gear)
    page.keyboard.press("Enter")
    settings_link = page.locator("details.gear").get_by_role("link", name="Settings")
    expect(settings_link).to_be_visible()
    focus_by_tabbing(page, settings_link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Customize form appearance")
    shown = page.locator('fieldset[data-layout-tab="otp"]').get_by_label("Shown")
    focus_by_tabbing(page, shown)
    page.keyboard.press("Space")
    expect(shown).not_to_be_checked()
    screenshot(page, "journey6-gear-dialog")
    page.keyboard.press("Enter")  # Enter in a form presses its first button: Save
    expect(page).to_have_url(profile)
    expect(page.locator(".flashes")).to_contain_text(message("layout.saved"))
    expect(otp_tab).to_have_count(0)
    page.goto("/admin/security/otp")
    expect(page.locator("[data-otp-tab-hidden]")).to_be_visible()

    # Another administrator still has the tab: the settings were only for the first one.
    second = new_context().new_page()
    sign_in(second, other, screenshot)
    second.goto(f"/admin/users/{user_id}")
    expect(
        second.get_by_role("navigation", name="Tabs").get_by_role(
            "link", name="Two-step authentication"
        )
    ).to_be_visible()

    # Reset, still from the keyboard, brings the tab back.
    page.goto(profile)
    focus_by_tabbing(page, gear)
    page.keyboard.press("Enter")
    focus_by_tabbing(page, settings_link)
    page.keyboard.press("Enter")
    reset = page.get_by_role("button", name="Reset to the built-in layout")
    focus_by_tabbing(page, reset)
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Enter")
    expect(page.locator(".flashes")).to_contain_text(message("layout.reset"))
    expect(otp_tab).to_be_visible()
    screenshot(page, "journey6-tab-back")


def test_7_a_remembered_computer_skips_the_code_and_another_browser_does_not(
    admin_page: Page,
    new_context: Callable[..., Any],
    live_server: Any,
    screenshot: Callable[..., Path],
) -> None:
    configure(admin_page, default_type="totp", allow_remember=True, remember_days=30)
    worker = employee(live_server, "hugo")
    browser_context = new_context()
    page = browser_context.new_page()
    enter_password(page, worker.login, worker.password)
    connect_on_my_page(page, worker)
    assert worker.app is not None
    sign_out(page)

    enter_password(page, worker.login, worker.password)
    expect(page).to_have_url(re.compile(r"/login/otp$"))
    page.get_by_label(re.compile("One-time password")).fill(worker.app.code())
    page.get_by_label("Remember one-time password on this computer").check()
    screenshot(page, "journey7-remember-this-computer")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/my/$"))
    sign_out(page)

    # The same browser: the password is enough.
    enter_password(page, worker.login, worker.password)
    expect(page).to_have_url(re.compile(r"/my/$"))
    page.goto("/my/security")
    expect(page.locator("#two-step table tbody tr")).to_have_count(1)
    screenshot(page, "journey7-remembered-computers")

    # Another browser: the code is asked for.
    elsewhere = new_context().new_page()
    enter_password(elsewhere, worker.login, worker.password)
    expect(elsewhere).to_have_url(re.compile(r"/login/otp$"))


def test_my_page_asks_i_understand_before_disabling_even_without_javascript(
    admin_page: Page,
    new_context: Callable[..., Any],
    live_server: Any,
    screenshot: Callable[..., Path],
) -> None:
    configure(admin_page, default_type="totp")
    worker = employee(live_server, "kai")
    page = new_context(java_script_enabled=False).new_page()
    enter_password(page, worker.login, worker.password)
    connect_on_my_page(page, worker)

    # New codes: without the tick the browser does not send the form.
    page.goto("/my/security/recovery-codes")
    page.get_by_role("button", name="Generate new codes").click()
    expect(page).to_have_url(re.compile(r"/my/security/recovery-codes$"))
    expect(page.locator("ol.recovery-codes")).to_have_count(0)
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Generate new codes").click()
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)

    page.goto("/my/security")
    disable = page.locator("#two-step").get_by_role("button", name="Disable")
    disable.click()
    expect(page.locator("#two-step")).to_have_attribute("data-otp-status", "active")
    page.locator("#two-step").get_by_label(re.compile("I understand")).check()
    screenshot(page, "my-security-disable-confirm")
    disable.click()
    expect(page.locator(".flashes")).to_contain_text(message("otp.disabled_forever"))
    expect(page.locator("#two-step")).to_have_attribute("data-otp-status", "disabled")


# --------------------------------------------------------------------------- accessibility


AXE_RUN = """async () => {
  const result = await axe.run(document, {
    resultTypes: ['violations'],
    rules: {'target-size': {enabled: true}},
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
  }));
}"""


@pytest.fixture
def axe_pages(
    new_context: Callable[..., Any], artifacts_dir: Path
) -> Iterator[Callable[[Page, str], None]]:
    """Check pages with axe-core; fail at the end on serious or critical violations."""
    assert AXE.exists(), f"{AXE} is missing"
    found: dict[str, list[dict[str, Any]]] = {}

    def check(page: Page, name: str) -> None:
        page.add_script_tag(path=str(AXE))
        found[f"{name} ({urlsplit(page.url).path})"] = page.evaluate(AXE_RUN)

    yield check
    (artifacts_dir.parent / "axe-violations.json").write_text(json.dumps(found, indent=2))
    serious = {
        page: [f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in violations]
        for page, violations in found.items()
        for v in violations
        if v["impact"] in ("serious", "critical")
    }
    assert not serious, "axe-core found serious or critical violations:\n" + "\n".join(
        f"{page}: {lines}" for page, lines in serious.items()
    )


def test_the_two_step_pages_pass_axe_core(
    new_context: Callable[..., Any],
    live_server: Any,
    admin: Account,
    axe_pages: Callable[[Page, str], None],
    screenshot: Callable[..., Path],
) -> None:
    """No serious or critical accessibility violation on the pages of two-step sign-in.

    axe's default rules (WCAG 2.0-2.2 A and AA, best practices) plus target-size, which
    axe leaves off by default; every finding is written to axe-violations.json.

    axe is injected as a script, which the console's CSP (script-src 'self') forbids:
    only these contexts bypass it.
    """
    admin_page = new_context(bypass_csp=True).new_page()
    sign_in(admin_page, admin, screenshot)
    configure(admin_page, default_type="totp", allow_remember=True)
    worker = employee(live_server, "ida")

    page = new_context(bypass_csp=True).new_page()
    page.goto("/login")
    axe_pages(page, "sign-in")
    enter_password(page, worker.login, worker.password)
    page.goto("/my/security")
    axe_pages(page, "My page security, not configured")
    page.locator("#two-step").get_by_role("link", name="Connect").click()
    axe_pages(page, "My page connect")
    page.get_by_role("button", name="Connect").click()  # empty: the error next to the field
    axe_pages(page, "My page connect with an error")
    secret = page.locator(".secret code").inner_text()
    worker.app = Authenticator(secret.replace(" ", ""))
    fill_connect_codes(page, worker.app)
    axe_pages(page, "new recovery codes")
    page.get_by_role("link", name="Continue").click()
    axe_pages(page, "My page security, enabled")
    page.goto("/my/security/recovery-codes")
    axe_pages(page, "My page recovery codes")
    page.goto("/my/")
    axe_pages(page, "My page")
    sign_out(page)
    enter_password(page, worker.login, worker.password)
    axe_pages(page, "code step")
    page.get_by_label(re.compile("One-time password")).fill("000000")
    page.get_by_role("button", name="Continue").click()
    axe_pages(page, "code step with an error")
    page.get_by_role("link", name=re.compile("Use a recovery code")).click()
    axe_pages(page, "code step, recovery code")

    for tab in ("state", "parameters"):
        admin_page.goto(f"/admin/security/otp?tab={tab}")
        axe_pages(admin_page, f"settings, tab {tab}")
    admin_page.goto(f"/admin/users?q={worker.login}")
    axe_pages(admin_page, "user list")
    for tab in ("main", "groups", "personal", "otp", "events"):
        user_id = open_user_tab(admin_page, worker.login, tab)
        axe_pages(admin_page, f"user profile, tab {tab}")
    admin_page.goto(f"/admin/users/{user_id}/otp/connect?source=mobile&type=hotp")
    axe_pages(admin_page, "admin connect, mobile")
    admin_page.goto(f"/admin/users/{user_id}/otp/connect?source=hardware&type=totp")
    axe_pages(admin_page, "admin connect, hardware token")
    admin_page.goto(f"/admin/users/{user_id}/recovery-codes")
    axe_pages(admin_page, "admin recovery codes")
    admin_page.goto("/admin/form-settings/user_edit")
    axe_pages(admin_page, "form settings (the gear)")
    admin_page.goto("/admin/events")
    axe_pages(admin_page, "event log")
    admin_page.goto("/admin/")
    axe_pages(admin_page, "overview")

    # The forced connection, for an administrator who must connect at once.
    configure(admin_page, mandatory=True, mandatory_days=0, mandatory_groups=[1])
    boss = Account(unique("jan"), PASSWORD)
    live_server.flask("users", "create", boss.login, "--password", PASSWORD, "--admin")
    forced = new_context(bypass_csp=True).new_page()
    enter_password(forced, boss.login, boss.password)
    expect(forced).to_have_url(re.compile(r"/login/connect$"))
    axe_pages(forced, "forced connection")
