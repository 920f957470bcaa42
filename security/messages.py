"""Every sentence the console says to a person, in one place; tests assert by key."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # Sign-in
    "login.invalid": "Incorrect login or password.",
    "login.required": "Please sign in to open this page.",
    "login.signed_out": "You have been signed out.",
    "login.session_ended": "Your session has ended. Please sign in again.",
    "login.rate_limited": ("Too many sign-in attempts. Wait a minute, then try again."),
    # Forms
    "form.expired": (
        "This form was open too long or was not sent from this console. "
        "It has been reloaded: please try again."
    ),
    "form.control_characters": "Control characters are not allowed here.",
    "form.too_long": "At most {max} characters.",
    "form.required": "This field is required.",
    # Accounts
    "user.login_taken": "A user with this login already exists.",
    "user.login_invalid": (
        "A login is 1 to 50 letters, digits or the characters . _ @ + - (no spaces)."
    ),
    "user.login_mixed_script": (
        "A login cannot mix letters of different alphabets, such as Latin with Cyrillic or Greek."
    ),
    "user.login_confusable": (
        "This login looks like an existing login. Choose one that is clearly different."
    ),
    "user.passwords_differ": "The two passwords differ.",
    "user.password_short": "A password needs at least {min} characters.",
    "user.created": "User {login} created.",
    "user.saved": "Changes saved.",
    "user.not_found": "There is no such user.",
    "user.unknown_group": "One of the chosen groups does not exist.",
    "user.cannot_block_self": "You cannot block your own account.",
    "user.cannot_drop_own_admin": "You cannot remove yourself from the Administrators group.",
    # My page
    "mypage.password_changed": (
        "Your password has been changed. Your other sessions have been signed out."
    ),
    "mypage.current_password_wrong": "The current password is not correct.",
    "mypage.session_ended": "The session has been ended.",
    "mypage.other_sessions_ended": "All your other sessions have been ended.",
    # Two-step authentication
    "otp.enabled_globally": "Two-step authentication is enabled.",
    "otp.disabled_globally": "Two-step authentication is disabled.",
    "otp.settings_saved": "Parameters saved.",
    "otp.settings_unchanged": "Nothing was changed.",
    "otp.off_for_console": (
        "Two-step authentication is switched off for the whole console. "
        "An administrator can switch it on in Settings → Proactive protection."
    ),
    "otp.code_malformed": "Enter the {digits}-digit code your app shows, digits only.",
    "otp.sign_in_code_malformed": (
        "Enter the code your app shows (6 or 8 digits), or a recovery code like abcde-12345."
    ),
    "otp.code_wrong": (
        "This code is not correct. Check that the time on your phone is set automatically, "
        "then enter the code shown now."
    ),
    "otp.codes_wrong": (
        "These codes do not match the device. Enter two codes that the device shows "
        "one after the other."
    ),
    "otp.connection_expired": (
        "This connection page has expired. A new secret has been made: scan the new QR code."
    ),
    "otp.connected": "Two-step authentication is connected.",
    "otp.already_connected": (
        "This device is already connected. The form was sent twice; nothing was changed."
    ),
    "otp.clock_off": "Connected, but {offset}. Set your phone's time to be set automatically.",
    "otp.no_device": "No device is connected.",
    "otp.secret_unreadable": (
        "The stored secret cannot be decrypted with the configured keys. Connect the device again."
    ),
    "otp.disable_days": "Choose 0 (until re-enabled) or 1 to {max} days.",
    "otp.defer_days": "Choose 1 to 365 days.",
    "otp.exempt_past": "Choose a date in the future.",
    "otp.mandatory_no_disable": (
        "Two-step authentication is mandatory for your account; you cannot disable it."
    ),
    "otp.own_mandatory": (
        "Two-step authentication is mandatory for your account: nobody changes their own. "
        "Ask another administrator."
    ),
    "otp.mandatory_needs_days": (
        "Two-step authentication is mandatory for this user: a switch-off until re-enabled "
        "would still ask for the code. Choose 1 to {max} days."
    ),
    "otp.disabled": "Two-step authentication is disabled until {until}.",
    "otp.disabled_forever": "Two-step authentication is disabled until it is enabled again.",
    "otp.reenabled": "Two-step authentication is enabled again.",
    "otp.deleted": "The device and its recovery codes were removed.",
    "otp.synchronized": "The device is synchronised.",
    "otp.unlocked": "The second step is unlocked.",
    "otp.grace_extended": "The user now has until {deadline} to connect.",
    "otp.exempted": "The user is exempt from mandatory two-step until {until}.",
    "otp.exemption_ended": "The exemption has ended.",
    "otp.invalid_secret": "{reason}",
    "otp.hardware_secret_read": "The secret was read as {format}.",
    "otp.recovery_not_allowed": "Recovery codes are switched off by the administrator.",
    "otp.recovery_generated": (
        "Keep these codes somewhere safe: each of them can be used once, "
        "instead of a one-time password."
    ),
    "otp.computers_forgotten": "Every remembered computer has been forgotten.",
    "otp.confirm_needed": "Tick “I understand” to confirm; nothing was changed.",
    "otp.reauth_needed": "For your security, enter your password again to continue.",
    "otp.enter_code": "Please enter your one-time password.",
    "otp.locked": "Too many attempts; try again after {until}.",
    "otp.code_incorrect": "One-time password is incorrect.",
    "otp.recovery_used": "You signed in with a recovery code. {left} recovery codes are left.",
    "otp.recovery_low": (
        "You signed in with a recovery code. Only {left} are left: make new ones on My page."
    ),
    "otp.pending_expired": "The sign-in took too long. Please enter your password again.",
    "otp.must_connect": "You cannot sign in without a one-time password.",
    "otp.grace_banner": (
        "Two-step authentication is required for your account. Connect it before {deadline}."
    ),
    "otp.not_enabled_for_console": "Two-step authentication is not enabled on this console.",
    # Form settings (the gear of admin forms)
    "layout.unknown_form": "There is no form with this name, so it has no settings.",
    "layout.saved": "Your form settings have been saved.",
    "layout.saved_default": "The form settings have been saved as the default for all users.",
    "layout.reset": "Your form settings have been deleted: the form shows its default layout.",
    "layout.default_deleted": "The default form settings have been deleted.",
    "layout.nothing_to_reset": "There were no such settings to delete.",
    "layout.disabled": "Custom form settings are switched off for this form.",
    "layout.enabled": "Custom form settings are switched on again for this form.",
    "layout.no_personal": "You have no custom settings for this form yet.",
    "layout.not_saved": "The settings were not saved; nothing was changed.",
    "layout.save_conflict": "The settings were changed at the same moment. Please try again.",
    "layout.unknown_tab": "There is no tab “{id}” on this form.",
    "layout.unknown_field": "There is no field “{id}” on this form.",
    "layout.duplicate_id": "“{id}” appears more than once.",
    "layout.bad_position": "Positions must be whole numbers.",
    "layout.duplicate_position": "Two entries have the same position {position}.",
    "layout.label_empty": "The label of “{name}” cannot be empty.",
    "layout.label_too_long": "The label of “{name}” may have at most {max} characters.",
    "layout.label_control_characters": (
        "The label of “{name}” holds control characters, which are not allowed."
    ),
    "layout.required_tab": "The tab “{label}” is required and cannot be hidden.",
    "layout.required_field": "The field “{label}” is required and cannot be hidden.",
    "layout.required_field_on_hidden_tab": (
        "The field “{label}” is required, so its tab “{tab}” cannot be hidden."
    ),
    "layout.tab_takes_no_fields": "The tab “{label}” has content of its own and takes no fields.",
    "layout.too_many_sections": "A form may have at most {max} section headings.",
    "layout.too_many_entries": "The settings hold too many entries.",
    "layout.malformed": "The settings could not be read.",
    "layout.bad_scope": "Choose whether the settings are for you or the default for everyone.",
    "layout.default_admins_only": "Only administrators can change the default for all users.",
    "layout.otp_tab_hidden": (
        "The “Two-step authentication” tab is hidden from your user profile form by its "
        "form settings. To bring it back, open the gear at the right of the tabs on a user's "
        "profile, choose Settings and tick the tab, or reset the settings."
    ),
    "layout.otp_after_save": "Two-step authentication becomes available after the user is saved.",
    # Access
    "access.denied": "You do not have permission to open this page.",
    # Requests
    "request.form_only": "This address accepts form submissions only.",
    # Event log
    "events.repeated": "{count} times within a minute",
}


def message(key: str, **values: object) -> str:
    """Return the catalog text for `key`, filled with `values`."""
    text = MESSAGES[key]
    return text.format(**values) if values else text


class Refusal(ValueError):
    """A domain rule said no; `key` is the catalog key, `field` the form field it belongs to."""

    def __init__(self, key: str, field: str | None = None, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.values = values

    @property
    def text(self) -> str:
        """The sentence to show the person."""
        return message(self.key, **self.values)
