"""Proactive protection → Two-step authentication: the global switch and the Parameters tab."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from extensions import db
from models import SETTINGS_ROW_ID, Group, OtpSettings, RememberedComputer, User
from security import events, notices
from security.messages import message
from security.untrusted_text import has_control_characters

# Ranges of the Parameters tab: (minimum, maximum).
RANGES: dict[str, tuple[int, int]] = {
    "totp_window": (0, 10),
    "hotp_window": (1, 100),
    "remember_days": (1, 365),
    "mandatory_days": (0, 365),
    "max_attempts": (1, 100),
    "lockout_minutes": (1, 1440),
}
ISSUER_MAX = 100


class SettingsError(ValueError):
    """A parameter out of its range; `field` names the form field."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field
        self.text = text


@dataclass(frozen=True)
class Parameters:
    """Every field of the Parameters tab."""

    default_type: str
    totp_window: int
    hotp_window: int
    allow_remember: bool
    remember_days: int
    allow_recovery_codes: bool
    mandatory: bool
    mandatory_days: int
    mandatory_groups: tuple[int, ...]
    max_attempts: int
    lockout_minutes: int
    log_requests: bool
    issuer: str


def load_settings() -> OtpSettings:
    """Return the settings row, read once per database session (a request)."""
    settings = db.session.get(OtpSettings, SETTINGS_ROW_ID)
    if settings is None:
        # The migration creates the row; this only guards a database emptied by hand.
        # Two first requests at once may both try: the second keeps the first one's row.
        dialect = db.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.session.execute(insert(OtpSettings).values(id=SETTINGS_ROW_ID).on_conflict_do_nothing())
        settings = db.session.get(OtpSettings, SETTINGS_ROW_ID)
        if settings is None:
            raise RuntimeError("the settings row was not created")
    return keep_for_session(settings)


def keep_for_session(settings: OtpSettings) -> OtpSettings:
    """Hold the settings row for the rest of the database session and return it.

    The identity map holds objects weakly: once the function that read the row returns,
    the row could be collected and read again by the next load_settings(). A reference
    in the session's own `info` keeps it (a commit still expires it, as it should).
    """
    db.session.info["otp_settings"] = settings
    return settings


def current_parameters(settings: OtpSettings) -> Parameters:
    """Return the Parameters tab's values from the settings row."""
    values = {field.name: getattr(settings, field.name) for field in fields(Parameters)}
    values["mandatory_groups"] = tuple(settings.mandatory_group_ids)
    return Parameters(**values)


def check_parameters(parameters: Parameters) -> None:
    """Refuse values outside their ranges, unknown groups and unusable issuers."""
    if parameters.default_type not in ("totp", "hotp"):
        raise SettingsError("default_type", message("otp.settings_choose_type"))
    for name, (low, high) in RANGES.items():
        value = getattr(parameters, name)
        if not low <= value <= high:
            raise SettingsError(name, message("form.whole_number", low=low, high=high))
    issuer = parameters.issuer.strip()
    if not issuer or len(issuer) > ISSUER_MAX:
        raise SettingsError("issuer", message("otp.settings_issuer_length", max=ISSUER_MAX))
    if ":" in issuer or has_control_characters(issuer):
        # A colon would split the authenticator's "issuer:login" label.
        raise SettingsError("issuer", message("otp.settings_issuer_colon"))
    known = set(db.session.scalars(select(Group.id)))
    unknown = [group for group in parameters.mandatory_groups if group not in known]
    if unknown:
        raise SettingsError("mandatory_groups", message("user.unknown_group"))
    if parameters.mandatory and not parameters.mandatory_groups:
        raise SettingsError("mandatory_groups", message("otp.settings_no_group"))


def update_parameters(parameters: Parameters, *, now: datetime, actor: User, ip: str) -> list[str]:
    """Save the Parameters tab; record what changed; return the changed names."""
    check_parameters(parameters)
    settings = load_settings()
    before = current_parameters(settings)
    changed: list[str] = []
    for field in fields(Parameters):
        old, new = getattr(before, field.name), getattr(parameters, field.name)
        if field.name == "issuer":
            new = new.strip()
        if old != new:
            changed.append(f"{field.name}: {_show(old)} → {_show(new)}")
            if field.name == "mandatory_groups":
                setattr(settings, field.name, ",".join(str(group) for group in sorted(new)))
            else:
                setattr(settings, field.name, new)
    _bound_remembered_computers(before, parameters)
    if changed:
        events.record(
            events.OTP_SETTINGS_CHANGED,
            now=now,
            ip=ip,
            actor=actor,
            details={"changed": "; ".join(changed)},
        )
    return changed


def _bound_remembered_computers(before: Parameters, after: Parameters) -> None:
    """Make remembered computers follow the setting at once, not when they expire.

    Switched off: every remembered computer is forgotten. Fewer days: each one ends that
    many days after it was remembered (the sign-in checks the same bound).
    """
    if before.allow_remember and not after.allow_remember:
        db.session.execute(delete(RememberedComputer))
    elif after.remember_days < before.remember_days:
        limit = timedelta(days=after.remember_days)
        for record in db.session.scalars(select(RememberedComputer)):
            record.expires_at = min(record.expires_at, record.created_at + limit)


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def set_enabled(enabled: bool, *, now: datetime, actor: User | None, ip: str) -> bool:
    """Switch two-step authentication on or off for the whole console; return if it changed."""
    settings = load_settings()
    if settings.enabled == enabled:
        return False
    settings.enabled = enabled
    settings.enabled_changed_at = now
    events.record(
        events.OTP_ENABLED if enabled else events.OTP_DISABLED_GLOBALLY,
        now=now,
        ip=ip,
        actor=actor,
    )
    if not enabled:
        notices.notify_administrators(
            notices.TWO_STEP_SWITCHED_OFF,
            now=now,
            values={"actor": actor.login if actor else ""},
        )
    return True
