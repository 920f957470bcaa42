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
    # Access
    "access.denied": "You do not have permission to open this page.",
}


def message(key: str, **values: object) -> str:
    """Return the catalog text for `key`, filled with `values`."""
    text = MESSAGES[key]
    return text.format(**values) if values else text
