"""The built-in layout of each tabbed admin form: which tabs and fields it has, in which order."""

from __future__ import annotations

from typing import Final

from security.form_layouts.layout import FieldLayout, FormLayout, TabLayout


def _field(field_id: str, label: str, *, required: bool = False) -> FieldLayout:
    return FieldLayout(field_id, label, required=required)


BUILTIN_LAYOUTS: Final[dict[str, FormLayout]] = {
    "user_edit": FormLayout(
        form_id="user_edit",
        title="User profile",
        all_tabs=(
            TabLayout(
                "main",
                "User",
                (
                    _field("login", "Login", required=True),
                    _field("email", "E-mail"),
                    _field("active", "Active (may sign in)"),
                    _field("password", "New password"),
                    _field("password_confirm", "Repeat the password"),
                ),
                required=True,
            ),
            TabLayout("groups", "Groups", (_field("groups", "Groups"),)),
            TabLayout(
                "personal",
                "Personal data",
                (_field("name", "First name"), _field("last_name", "Last name")),
            ),
            TabLayout("otp", "Two-step authentication", holds_fields=False),
            TabLayout("events", "Security events", holds_fields=False),
        ),
    ),
    "otp_settings": FormLayout(
        form_id="otp_settings",
        title="Two-step authentication settings",
        all_tabs=(
            # The global on/off switch lives here: the page cannot work without it.
            TabLayout("state", "Two-step authentication", required=True, holds_fields=False),
            TabLayout(
                "parameters",
                "Parameters",
                (
                    _field("default_type", "Default password generation algorithm"),
                    _field("totp_window", "TOTP tolerance (time steps either side)"),
                    _field("hotp_window", "Password check window size"),
                    _field("allow_remember", "Allow persistent OTPs"),
                    _field("remember_days", "Days a computer is remembered"),
                    _field("allow_recovery_codes", "Allow recovery codes"),
                    _field("mandatory", "Always require two-step authentication"),
                    _field("mandatory_days", "Days left to connect"),
                    _field(
                        "mandatory_groups",
                        "Users who always have to use two-step authentication",
                    ),
                    _field("max_attempts", "Failed codes before the second step locks"),
                    _field("lockout_minutes", "Lock duration in minutes"),
                    _field("log_requests", "Log requests for OTP password"),
                    _field("issuer", "Issuer name shown in authenticator apps"),
                ),
            ),
        ),
    ),
}


def is_known_form(form_id: str) -> bool:
    """Tell whether a form with this id has a layout."""
    return form_id in BUILTIN_LAYOUTS


def layout_for(form_id: str) -> FormLayout:
    """Return the built-in layout of a form."""
    return BUILTIN_LAYOUTS[form_id]
