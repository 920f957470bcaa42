"""The built-in layout of each tabbed admin form: which tabs and fields it has, in which order."""

from __future__ import annotations

from typing import Final

from security.form_layouts.layout import FieldLayout, FormLayout, TabLayout
from security.messages import message


def _field(field_id: str, label: str, *, required: bool = False) -> FieldLayout:
    return FieldLayout(field_id, label, required=required)


# The forms that have a layout; each is drawn by `_builtin_layouts`.
FORM_IDS: Final = frozenset({"user_edit", "otp_settings"})


def _builtin_layouts() -> dict[str, FormLayout]:
    """The layouts as shipped, labelled in the reader's language (so built at each call)."""
    return {
        "user_edit": FormLayout(
            form_id="user_edit",
            title=message("layout.user_edit.title"),
            all_tabs=(
                TabLayout(
                    "main",
                    message("layout.user_edit.tab.main"),
                    (
                        _field("login", message("layout.user_edit.field.login"), required=True),
                        _field("email", message("layout.user_edit.field.email")),
                        _field("active", message("layout.user_edit.field.active")),
                        _field("password", message("layout.user_edit.field.password")),
                        _field(
                            "password_confirm", message("layout.user_edit.field.password_confirm")
                        ),
                    ),
                    required=True,
                ),
                TabLayout(
                    "groups",
                    message("layout.user_edit.tab.groups"),
                    (_field("groups", message("layout.user_edit.field.groups")),),
                ),
                TabLayout(
                    "personal",
                    message("layout.user_edit.tab.personal"),
                    (
                        _field("name", message("layout.user_edit.field.name")),
                        _field("last_name", message("layout.user_edit.field.last_name")),
                        _field("language", message("layout.user_edit.field.language")),
                        _field("timezone", message("layout.user_edit.field.timezone")),
                    ),
                ),
                TabLayout("otp", message("layout.user_edit.tab.otp"), holds_fields=False),
                TabLayout("events", message("layout.user_edit.tab.events"), holds_fields=False),
            ),
        ),
        "otp_settings": FormLayout(
            form_id="otp_settings",
            title=message("layout.otp_settings.title"),
            all_tabs=(
                # The global on/off switch lives here: the page cannot work without it.
                TabLayout(
                    "state",
                    message("layout.otp_settings.tab.state"),
                    required=True,
                    holds_fields=False,
                ),
                TabLayout(
                    "parameters",
                    message("layout.otp_settings.tab.parameters"),
                    (
                        _field("default_type", message("layout.otp_settings.field.default_type")),
                        _field("totp_window", message("layout.otp_settings.field.totp_window")),
                        _field("hotp_window", message("layout.otp_settings.field.hotp_window")),
                        _field(
                            "allow_remember", message("layout.otp_settings.field.allow_remember")
                        ),
                        _field("remember_days", message("layout.otp_settings.field.remember_days")),
                        _field(
                            "allow_recovery_codes",
                            message("layout.otp_settings.field.allow_recovery_codes"),
                        ),
                        _field("mandatory", message("layout.otp_settings.field.mandatory")),
                        _field(
                            "mandatory_days", message("layout.otp_settings.field.mandatory_days")
                        ),
                        _field(
                            "mandatory_groups",
                            message("layout.otp_settings.field.mandatory_groups"),
                        ),
                        _field("max_attempts", message("layout.otp_settings.field.max_attempts")),
                        _field(
                            "lockout_minutes", message("layout.otp_settings.field.lockout_minutes")
                        ),
                        _field("log_requests", message("layout.otp_settings.field.log_requests")),
                        _field("issuer", message("layout.otp_settings.field.issuer")),
                    ),
                ),
            ),
        ),
    }


def is_known_form(form_id: str) -> bool:
    """Tell whether a form with this id has a layout."""
    return form_id in FORM_IDS


def layout_for(form_id: str) -> FormLayout:
    """Return the built-in layout of a form, in the reader's language."""
    return _builtin_layouts()[form_id]
