"""Template filters and the catalog's helper for presentation only."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from markupsafe import Markup

from security import events
from security.messages import message, translated
from web.i18n import local_time_text

_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Firefox", re.compile(r"Firefox/(\d+)")),
    ("Chrome", re.compile(r"(?:Headless)?Chrom(?:e|ium)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+).*Safari/")),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def browser_name(user_agent: str) -> str:
    """Say "Chrome 156 on Linux" for a User-Agent header, or return it as it is."""
    if not user_agent:
        return message("nav.unknown_browser")
    browser = next(
        (
            f"{name} {match.group(1)}"
            for name, pattern in _BROWSERS
            if (match := pattern.search(user_agent))
        ),
        None,
    )
    system = next((label for token, label in _SYSTEMS if token in user_agent), None)
    if browser is None:
        return user_agent[:80]
    return message("nav.browser_on_system", browser=browser, system=system) if system else browser


def catalog_text(key: str, **values: object) -> Markup:
    """Return the catalog's text for `key` in a template: `t('otp.connected')`.

    Every text a template shows goes through here, in the reader's language. The catalog's
    own words are trusted; the values are escaped unless they are markup already (a link
    or a <time> drawn by the template), so a sentence can hold a link without its words
    being split over the template.
    """
    text = Markup(translated(key, values))  # noqa: S704 - the catalog is ours, not user input
    return text.format(**values) if values else text


# What each event type and outcome is called in the event log; the types stay as they
# are in data-event-type, the filter's query and the CSV, which scripts read.
EVENT_LABELS = {
    events.SIGN_IN: "event.sign_in",
    events.SIGN_IN_FAILED: "event.sign_in_failed",
    events.SIGN_OUT: "event.sign_out",
    events.RATE_LIMITED: "event.rate_limited",
    events.SESSION_ENDED: "event.session_ended",
    events.USER_CREATED: "event.user_created",
    events.USER_CHANGED: "event.user_changed",
    events.USER_BLOCKED: "event.user_blocked",
    events.USER_UNBLOCKED: "event.user_unblocked",
    events.PASSWORD_CHANGED: "event.password_changed",
    events.PREFERENCES_CHANGED: "event.preferences_changed",
    events.ACCESS_DENIED: "event.access_denied",
    events.OTP_ENABLED: "event.otp_enabled",
    events.OTP_DISABLED_GLOBALLY: "event.otp_disabled_globally",
    events.OTP_SETTINGS_CHANGED: "event.otp_settings_changed",
    events.OTP_CONNECTED: "event.otp_connected",
    events.OTP_CONNECT_FAILED: "event.otp_connect_failed",
    events.OTP_DISABLED: "event.otp_disabled",
    events.OTP_REENABLED: "event.otp_reenabled",
    events.OTP_DELETED: "event.otp_deleted",
    events.OTP_SYNCHRONIZED: "event.otp_synchronized",
    events.OTP_CODE_REQUESTED: "event.otp_code_requested",
    events.OTP_CODE_ACCEPTED: "event.otp_code_accepted",
    events.OTP_CODE_FAILED: "event.otp_code_failed",
    events.OTP_LOCKED: "event.otp_locked",
    events.OTP_UNLOCKED: "event.otp_unlocked",
    events.OTP_GRACE_STARTED: "event.otp_grace_started",
    events.OTP_GRACE_EXTENDED: "event.otp_grace_extended",
    events.OTP_EXEMPTED: "event.otp_exempted",
    events.RECOVERY_CODES_GENERATED: "event.recovery_codes_generated",
    events.RECOVERY_CODE_USED: "event.recovery_code_used",
    events.COMPUTER_REMEMBERED: "event.device_remembered",
    events.REMEMBERED_COMPUTERS_FORGOTTEN: "event.remembered_devices_forgotten",
    events.REAUTHENTICATED: "event.reauthenticated",
    events.FORM_LAYOUT_SAVED: "event.form_layout_saved",
    events.FORM_LAYOUT_RESET: "event.form_layout_reset",
    events.FORM_LAYOUT_DISABLED: "event.form_layout_disabled",
    events.FORM_LAYOUT_ENABLED: "event.form_layout_enabled",
}
OUTCOME_LABELS = {
    events.SUCCESS: "event.outcome.success",
    events.FAILURE: "event.outcome.failure",
    events.REFUSED: "event.outcome.refused",
}


def event_label(event_type: str) -> str:
    """The event type in the reader's words; a type from a later version shows as it is."""
    key = EVENT_LABELS.get(event_type)
    return message(key) if key else event_type


def outcome_label(outcome: str) -> str:
    key = OUTCOME_LABELS.get(outcome)
    return message(key) if key else outcome


# A time written into an event's details: ISO 8601 UTC, or the "YYYY-MM-DD HH:MM UTC"
# of rows written before the details held ISO times.
_DETAIL_TIME = re.compile(r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2}))?(?:Z| UTC)")


def event_details(details: str) -> str:
    """An event's details with each time shown in the reader's zone and language."""

    def local(match: re.Match[str]) -> str:
        date, clock, seconds = match.groups()
        moment = datetime.fromisoformat(f"{date}T{clock}:{seconds or '00'}+00:00")
        return local_time_text(moment)

    return _DETAIL_TIME.sub(local, details)


def register(app: Flask) -> None:
    """Attach the filters and the catalog's `t(key, **values)` to the app's templates."""
    app.jinja_env.filters["browser"] = browser_name
    app.jinja_env.filters["event_details"] = event_details
    app.jinja_env.globals["event_label"] = event_label
    app.jinja_env.globals["outcome_label"] = outcome_label
    app.jinja_env.globals["t"] = catalog_text
