"""An event of the log in the reader's words: its type, its outcome and its details.

The log keeps machine words (`otp_disabled`, `reason=wrong password`,
`until=2026-11-29T20:00:00Z`) for the CSV and the scripts that read it; the page says
them in the reader's language, with times in the reader's zone. A word this module does
not know (from a later version, or free text) is shown as it was stored.
"""

from __future__ import annotations

import re
from datetime import datetime

from security import events
from security.messages import message
from web.i18n import local_time_text

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
    events.TEMPORARY_CODE_ISSUED: "event.temporary_code_issued",
    events.TEMPORARY_CODE_REVOKED: "event.temporary_code_revoked",
    events.TEMPORARY_CODE_USED: "event.temporary_code_used",
    events.TOKENS_IMPORTED: "event.tokens_imported",
    events.TOKENS_IMPORT_REFUSED: "event.tokens_import_refused",
    events.TOKEN_ASSIGNED: "event.token_assigned",
    events.TOKEN_UNASSIGNED: "event.token_unassigned",
    events.COMPUTER_REMEMBERED: "event.device_remembered",
    events.REMEMBERED_COMPUTERS_FORGOTTEN: "event.remembered_devices_forgotten",
    events.REAUTHENTICATED: "event.reauthenticated",
    events.FORM_LAYOUT_SAVED: "event.form_layout_saved",
    events.FORM_LAYOUT_RESET: "event.form_layout_reset",
    events.FORM_LAYOUT_DISABLED: "event.form_layout_disabled",
    events.FORM_LAYOUT_ENABLED: "event.form_layout_enabled",
    events.NOTICE_SETTINGS_CHANGED: "event.notice_settings_changed",
    events.TEST_MAIL_SENT: "event.test_mail_sent",
    events.APP_PASSWORD_CREATED: "event.app_password_created",
    events.APP_PASSWORD_REVOKED: "event.app_password_revoked",
    events.APP_PASSWORD_USED: "event.app_password_used",
    events.API_CLIENT_CREATED: "event.api_client_created",
    events.API_CLIENT_REVOKED: "event.api_client_revoked",
    events.API_VALIDATION: "event.api_validation",
    events.API_REFUSED: "event.api_refused",
    events.API_USER_READ: "event.api_user_read",
    events.EVENTS_PRUNED: "event.events_pruned",
    events.DIRECTORY_SETTINGS_CHANGED: "event.directory_settings_changed",
    events.DIRECTORY_TESTED: "event.directory_tested",
    events.DIRECTORY_SYNCED: "event.directory_synced",
    events.DIRECTORY_UNAVAILABLE: "event.directory_unavailable",
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


# The names of the details' keys, and the values that are words rather than data.
DETAIL_LABELS = {
    "reason": "event.detail.reason",
    "method": "event.detail.method",
    "until": "event.detail.until",
    "deadline": "event.detail.deadline",
    "days": "event.detail.days",
    "count": "event.detail.count",
    "left": "event.detail.left",
    "attempt": "event.detail.attempt",
    "attempts": "event.detail.attempts",
    "type": "event.detail.type",
    "source": "event.detail.source",
    "drift_steps": "event.detail.drift_steps",
    "drift_seconds": "event.detail.drift_seconds",
    "groups": "event.detail.groups",
    "changed": "event.detail.changed",
    "sessions_ended": "event.detail.sessions_ended",
    "which": "event.detail.which",
    "form": "event.detail.form",
    "scope": "event.detail.scope",
    "path": "event.detail.path",
    "language": "event.detail.language",
    "timezone": "event.detail.timezone",
    "not_mailed": "event.detail.not_mailed",
    "hours": "event.detail.hours",
    "serial": "event.detail.serial",
    "to": "event.detail.to",
    "problems": "event.detail.problems",
    "client": "event.detail.client",
    "name": "event.detail.name",
    "id": "event.detail.id",
    "result": "event.detail.result",
    "status": "event.detail.status",
    "networks": "event.detail.networks",
    "created": "event.detail.created",
    "updated": "event.detail.updated",
    "blocked": "event.detail.blocked",
    "unchanged": "event.detail.unchanged",
    "errors": "event.detail.errors",
    "first_error": "event.detail.first_error",
    "error": "event.detail.error",
}
VALUE_LABELS = {
    "unknown login": "event.value.unknown_login",
    "wrong password": "event.value.wrong_password",
    "blocked": "event.value.blocked",
    "current password wrong": "event.value.current_password_wrong",
    "own mandatory two-step": "event.value.own_mandatory",
    "mandatory": "event.value.mandatory",
    "re-enabled": "event.value.until_re_enabled",
    "ended": "event.value.ended",
    "one": "event.value.one_session",
    "others": "event.value.other_sessions",
    "mobile": "event.value.mobile",
    "hardware": "event.value.hardware",
    "password": "event.value.password",
    "otp": "event.value.otp",
    "recovery_code": "event.value.recovery_code",
    "temporary_code": "event.value.temporary_code",
    "connect": "event.value.connect",
    "personal": "event.value.personal",
    "default": "event.value.default",
    "unassigned": "event.value.token_unassigned",
    "lost": "event.value.token_lost",
    "retired": "event.value.token_retired",
    "password_changed": "event.value.password_changed",
    "accept": "event.value.accept",
    "reject": "event.value.reject",
    "locked": "event.value.locked",
    "invalid_credentials": "event.value.invalid_credentials",
    "code_required": "event.value.code_required",
    "code_malformed": "event.value.code_malformed",
    "code_incorrect": "event.value.code_incorrect",
    "connect_required": "event.value.connect_required",
    "directory_unavailable": "event.value.directory_unavailable",
    "no_second_step": "event.value.no_second_step",
    "app_password": "event.value.app_password",
}
# A time in the details: ISO 8601 UTC, or the "YYYY-MM-DD HH:MM UTC" of rows written
# before the details held ISO times.
_DETAIL_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2}))?(?:Z| UTC)")


def _local(match: re.Match[str]) -> str:
    date, clock, seconds = match.groups()
    return local_time_text(datetime.fromisoformat(f"{date}T{clock}:{seconds or '00'}+00:00"))


def _pairs(details: str) -> list[tuple[str, str]]:
    """The `key=value` pairs of stored details; a part without `=` belongs to the value before."""
    pairs: list[tuple[str, str]] = []
    for part in details.split("; "):
        key, equals, value = part.partition("=")
        if equals and re.fullmatch(r"[a-z_]+", key):
            pairs.append((key, value))
        elif pairs:
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]}; {part}")
        else:
            pairs.append(("", part))
    return pairs


# The two groups every console has, by the names they were created with: shown in the
# reader's language (unless an administrator renamed them), in the details too.
BUILTIN_GROUP_LABELS = {
    "Administrators": "group.administrators",
    "Employees": "group.employees",
}


def _groups(value: str) -> str:
    names = value.split(",")
    return ", ".join(
        message(BUILTIN_GROUP_LABELS[name]) if name in BUILTIN_GROUP_LABELS else name
        for name in names
    )


def _value(value: str) -> str:
    key = VALUE_LABELS.get(value)
    if key:
        return message(key)
    if value in ("totp", "hotp"):
        return value.upper()
    return _DETAIL_TIME.sub(_local, value)


def event_details(details: str) -> str:
    """An event's details in the reader's words: "Reason: wrong password; Until: …"."""
    shown = []
    for key, value in _pairs(details):
        label = DETAIL_LABELS.get(key)
        name = message(label) if label else key
        text = _groups(value) if key == "groups" else _value(value)
        shown.append(f"{name}: {text}" if name else text)
    return "; ".join(shown)
