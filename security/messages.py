"""Every sentence the console says to a person, in one place; tests assert by key.

The English here is the source of the translations: each entry is a gettext message
whose context is its key (`msgctxt "otp.locked"`), so two keys with the same English
keep their own translations and a test can still name the sentence it expects. Entries
holding a number are `Plural`: gettext picks the form the number takes in the reader's
language (1 день, 2 дня, 5 дней), which English's "1 day / N days" cannot express.

The domain knows no request, so it does not choose the language: the web layer hands
`use_translations` a function that returns the current reader's translations.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from typing import NamedTuple, Protocol


class Plural(NamedTuple):
    """A sentence with a number in it: English singular and plural, and the number's name."""

    one: str
    other: str
    number: str = "count"


class Translations(Protocol):
    """What the catalog needs of a gettext translations object (Babel's or the stdlib's)."""

    def pgettext(self, context: str, message: str) -> str: ...

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str: ...


MESSAGES: dict[str, str | Plural] = {
    # Built-in form layouts (the gear): titles, tabs and fields as shipped
    "layout.user_edit.title": "User profile",
    "layout.otp_settings.title": "Two-step authentication settings",
    "layout.user_edit.tab.main": "User",
    "layout.user_edit.tab.groups": "Groups",
    "layout.user_edit.tab.personal": "Personal data",
    "layout.user_edit.tab.otp": "Two-step authentication",
    "layout.user_edit.tab.events": "Security events",
    "layout.user_edit.field.login": "Login",
    "layout.user_edit.field.email": "E-mail",
    "layout.user_edit.field.active": "Active (may sign in)",
    "layout.user_edit.field.password": "New password",
    "layout.user_edit.field.password_confirm": "Repeat the password",
    "layout.user_edit.field.groups": "Groups",
    "layout.user_edit.field.name": "First name",
    "layout.user_edit.field.last_name": "Last name",
    "layout.user_edit.field.language": "Language",
    "layout.user_edit.field.timezone": "Time zone",
    "layout.otp_settings.tab.state": "Two-step authentication",
    "layout.otp_settings.tab.parameters": "Parameters",
    "layout.otp_settings.field.default_type": "Default password generation algorithm",
    "layout.otp_settings.field.totp_window": "TOTP tolerance (time steps either side)",
    "layout.otp_settings.field.hotp_window": "Password check window size",
    "layout.otp_settings.field.allow_remember": "Allow persistent OTPs",
    "layout.otp_settings.field.remember_days": "Days a computer is remembered",
    "layout.otp_settings.field.allow_recovery_codes": "Allow recovery codes",
    "layout.otp_settings.field.mandatory": "Always require two-step authentication",
    "layout.otp_settings.field.mandatory_days": "Days left to connect",
    "layout.otp_settings.field.mandatory_groups": (
        "Users who always have to use two-step authentication"
    ),
    "layout.otp_settings.field.max_attempts": "Failed codes before the second step locks",
    "layout.otp_settings.field.lockout_minutes": "Lock duration in minutes",
    "layout.otp_settings.field.log_requests": "Log requests for OTP password",
    "layout.otp_settings.field.issuer": "Issuer name shown in authenticator apps",
    # Sign-in
    "login.invalid": "Incorrect login or password.",
    "login.signed_out": "You have been signed out.",
    "login.session_ended": "Your session has ended. Please sign in again.",
    "login.rate_limited": ("Too many sign-in attempts. Wait a minute, then try again."),
    # Forms
    "form.expired": (
        "This form was open too long or was not sent from this console. "
        "It has been reloaded: please try again."
    ),
    "form.control_characters": "Control characters are not allowed here.",
    "form.too_long": Plural("At most {max} character.", "At most {max} characters.", "max"),
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
    "user.password_short": Plural(
        "A password needs at least {min} character.",
        "A password needs at least {min} characters.",
        "min",
    ),
    "user.created": "User {login} created.",
    "user.saved": "Changes saved.",
    "user.unknown_group": "One of the chosen groups does not exist.",
    "user.cannot_block_self": "You cannot block your own account.",
    "user.cannot_drop_own_admin": "You cannot remove yourself from the Administrators group.",
    "user.unchanged": "Nothing to change.",
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
    "otp.disable_days": Plural(
        "Choose 0 (until re-enabled) or 1 to {max} day.",
        "Choose 0 (until re-enabled) or 1 to {max} days.",
        "max",
    ),
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
    "otp.hardware_secret_read": "The secret was read as {format}.",
    "otp.recovery_not_allowed": "Recovery codes are switched off by the administrator.",
    "otp.computers_forgotten": "Every remembered computer has been forgotten.",
    "otp.confirm_needed": "Tick “I understand” to confirm; nothing was changed.",
    "otp.reauth_needed": "For your security, enter your password again to continue.",
    "otp.enter_code": "Please enter your one-time password.",
    "otp.locked": "Too many attempts; try again after {until}.",
    "otp.code_incorrect": "One-time password is incorrect.",
    "otp.recovery_used": Plural(
        "You signed in with a recovery code. {left} recovery code is left.",
        "You signed in with a recovery code. {left} recovery codes are left.",
        "left",
    ),
    "otp.recovery_low": Plural(
        "You signed in with a recovery code. Only {left} is left: make new ones on My page.",
        "You signed in with a recovery code. Only {left} are left: make new ones on My page.",
        "left",
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
    "layout.label_too_long": Plural(
        "The label of “{name}” may have at most {max} character.",
        "The label of “{name}” may have at most {max} characters.",
        "max",
    ),
    "layout.label_control_characters": (
        "The label of “{name}” holds control characters, which are not allowed."
    ),
    "layout.required_tab": "The tab “{label}” is required and cannot be hidden.",
    "layout.required_field": "The field “{label}” is required and cannot be hidden.",
    "layout.required_field_on_hidden_tab": (
        "The field “{label}” is required, so its tab “{tab}” cannot be hidden."
    ),
    "layout.tab_takes_no_fields": "The tab “{label}” has content of its own and takes no fields.",
    "layout.too_many_sections": Plural(
        "A form may have at most {max} section heading.",
        "A form may have at most {max} section headings.",
        "max",
    ),
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
    "events.repeated": Plural("{count} time within a minute", "{count} times within a minute"),
    # Navigation and page frame
    "nav.console": "Console",
    "nav.product": "Two-step authentication console",
    "nav.brand": "Two-step console",
    "nav.skip": "Skip to content",
    "nav.account": "Account",
    "nav.my_page": "My page",
    "nav.administration": "Administration",
    "nav.sign_out": "Sign out",
    "nav.pages": "Pages",
    "nav.previous": "Previous",
    "nav.next": "Next",
    "nav.page_of": "Page {page} of {pages} ({total} in all)",
    "nav.page_of_many": "Page {page} (more than {total} in all)",
    "nav.tabs": "Tabs",
    "nav.unknown_browser": "Unknown browser",
    "nav.browser_on_system": "{browser} on {system}",
    "nav.breadcrumbs": "Breadcrumbs",
    # Durations, in the plural form their number takes
    "time.seconds": Plural("{count} second", "{count} seconds"),
    "time.minutes": Plural("{count} minute", "{count} minutes"),
    "time.hours": Plural("{count} hour", "{count} hours"),
    "time.days": Plural("{count} day", "{count} days"),
    # Error pages
    "error.title.400": "Bad request",
    "error.title.403": "Access denied",
    "error.title.404": "Page not found",
    "error.title.405": "Method not allowed",
    "error.title.413": "Request too large",
    "error.title.415": "Unsupported form",
    "error.title.429": "Too many requests",
    "error.title.500": "Something went wrong",
    "error.title.503": "Service unavailable",
    "error.title.other": "Error",
    "error.explanation.400": "The request could not be understood.",
    "error.explanation.404": "There is no page at this address.",
    "error.explanation.405": "This address does not accept that kind of request.",
    "error.explanation.413": "The request is larger than the console accepts.",
    "error.explanation.500": "The console could not finish this request. Nothing was changed.",
    "error.explanation.503": "The database does not answer right now. Try again in a moment.",
    "error.status": "Status {status}.",
    "error.retry": "Open the form again",
    "error.to_my_page": "Go to My page",
    "error.to_sign_in": "Go to the sign-in page",
    # Sign-in pages
    "login.title": "Sign in",
    "login.submit": "Sign in",
    "login.connect_required": (
        "Two-step authentication is required for your account ({login}). "
        "Connect an authenticator app now to finish signing in."
    ),
    "login.back": "Back to the sign-in screen",
    "login.otp_title": "One-time password",
    "login.enter_recovery_code": "Enter one of your recovery codes.",
    "login.recovery_code": "Recovery code",
    "login.recovery_code_hint": (
        "One of the ten codes you saved when you connected, such as abcde-12345. Each works once."
    ),
    "login.code_hint": "The 6-digit code your authenticator app shows.",
    "login.code_hint_or_recovery": (
        "The 6-digit code your authenticator app shows, or one of your recovery codes."
    ),
    "login.remember_hint": (
        "Only on a computer that is yours: the next sign-ins here will ask only for the password."
    ),
    "login.use_app_code": "Use a code from the authenticator app",
    "login.code_not_accepted": (
        "Code not accepted? Make sure your phone sets its date and time automatically: "
        "the codes depend on the clock."
    ),
    "login.use_recovery_code": "Lost your phone? Use a recovery code",
    # Table headers shared by several pages
    "table.browser": "Browser",
    "table.address": "Address",
    "table.remembered": "Remembered",
    "table.until": "Until",
    "table.signed_in": "Signed in",
    "table.last_active": "Last active",
    "table.action": "Action",
    # Buttons and fields of forms
    "form.continue": "Continue",
    "form.cancel": "Cancel",
    "form.back": "Back",
    "form.whole_number": "Enter a whole number from {low} to {high}.",
    "form.days_number": "Enter a number of days.",
    "form.choice.totp": "TOTP: time based",
    "form.choice.hotp": "HOTP: counter based",
    "form.choice.totp_rfc": "TOTP: time based (RFC 6238)",
    "form.choice.hotp_rfc": "HOTP: counter based (RFC 4226)",
    "form.choice.seconds": Plural("{count} second", "{count} seconds"),
    "form.choice.automatic": "Automatic",
    "form.field.login": "Login",
    "form.field.password": "Password",
    "form.field.remember": "Keep me signed in on this computer",
    "form.field.second_step_code": "One-time password or recovery code",
    "form.field.remember_device": "Remember one-time password on this computer",
    "form.field.current_password": "Current password",
    "form.field.new_password": "New password",
    "form.field.new_password_confirm": "Repeat the new password",
    "form.field.password_confirm": "Repeat the password",
    "form.field.email": "E-mail",
    "form.field.active": "Active (may sign in)",
    "form.field.first_name": "First name",
    "form.field.last_name": "Last name",
    "form.field.groups": "Groups",
    "form.field.search": "Search",
    "form.field.group": "Group",
    "form.field.two_step": "Two-step",
    "form.field.event_type": "Type",
    "form.field.user": "User",
    "form.field.since": "From",
    "form.field.until": "To",
    "form.field.device": "Device",
    "form.field.algorithm": "Algorithm",
    "form.field.secret": "Secret key supplied with the token (hex or Base32)",
    "form.field.digits": "Digits",
    "form.field.period": "Time step",
    "form.field.start_time": "Start time T0 (Unix time)",
    "form.field.days": "Days",
    "form.field.exempt_until": "Exempt until",
    "form.field.default_type": "Default password generation algorithm",
    "form.field.totp_window": "TOTP tolerance (time steps either side)",
    "form.field.hotp_window": "Password check window size",
    "form.field.allow_remember": "Allow persistent OTPs",
    "form.field.remember_days": "Days a computer is remembered",
    "form.field.allow_recovery_codes": "Allow recovery codes",
    "form.field.mandatory": "Always require two-step authentication",
    "form.field.mandatory_days": "Days left to connect",
    "form.field.mandatory_groups": "Users who always have to use two-step authentication",
    "form.field.max_attempts": "Failed codes before the second step locks",
    "form.field.lockout_minutes": "Lock duration in minutes",
    "form.field.log_requests": "Log requests for OTP password",
    "form.field.issuer": "Issuer name shown in authenticator apps",
    "form.show": "Show",
    "form.save": "Save",
    # My page
    "mypage.profile": "Profile",
    "mypage.security": "Security",
    "mypage.device_changed": "My mobile device has changed",
    "mypage.replacing": (
        "The new device replaces the old one once you enter its code. "
        "Your old recovery codes will stop working."
    ),
    "mypage.name": "Name",
    "mypage.last_sign_in": "Last sign-in",
    "mypage.security_summary": "sessions, password and two-step authentication.",
    "mypage.reauth_title": "Confirm your password",
    "mypage.no_recovery_codes": (
        "No recovery codes yet. Generate them below, then print them or save them to a file, "
        "and keep them somewhere safe."
    ),
    "mypage.locked_until": (
        "The second step is locked after too many wrong codes, until {until}. "
        "An administrator can unlock it sooner."
    ),
    "mypage.password_only": "Your account is protected by your password only.",
    "mypage.connect_before": (
        "Two-step authentication is required for your account: connect it before {deadline}."
    ),
    "mypage.why_two_step": (
        "With two-step authentication, signing in also asks for a one-time code from an app on "
        "your phone. Even someone who knows your password cannot sign in without it."
    ),
    "mypage.active_since": "{state} since {since}.",
    "mypage.disabled_until": "Disabled until {until}.",
    "mypage.switches_back_on": "It switches itself back on then.",
    "mypage.disabled_forever": "{state} until it is enabled again.",
    "mypage.method": "{kind}, {source}",
    "mypage.kind_totp": "Time-based codes (TOTP)",
    "mypage.kind_hotp": "Counter-based codes (HOTP)",
    "mypage.source_mobile": "mobile app",
    "mypage.source_hardware": "hardware token",
    "mypage.mandatory_no_disable": (
        "Two-step authentication is mandatory for your account, so it cannot be disabled."
    ),
    "mypage.understand_disable": "I understand that signing in will ask only for my password.",
    "mypage.no_computers": (
        'No computer is remembered. Tick "Remember one-time password on this computer" '
        "when you sign in to skip the code on that computer."
    ),
    "mypage.sessions": "Where you are signed in",
    "mypage.this_browser": "(this browser)",
    "mypage.end_session": "End session",
    "mypage.end_other_sessions": "End all other sessions",
    "mypage.only_this_browser": "You are signed in only in this browser.",
    "mypage.change_password": "Change password",
    "mypage.change_password_note": "Changing your password signs you out everywhere else.",
    "mypage.password_hint": "At least 10 characters.",
    # Two-step screens
    "otp.two_step": "Two-step authentication",
    "otp.connect": "Connect",
    "otp.connect_title": "Connect two-step authentication",
    "otp.remind_later": "Remind me later",
    "otp.recovery_codes": "Recovery codes",
    "otp.your_recovery_codes": "Your recovery codes",
    "otp.new_codes_invalidate": (
        "Creating new recovery codes invalidates the previously generated codes."
    ),
    "otp.generate_codes": "Generate new codes",
    "otp.understand_old_codes": "I understand that the old codes will stop working.",
    "otp.print_meta": "{issuer} · {login} · created {created}",
    "otp.keep_codes": (
        "Keep them handy and somewhere safe: if you lose your phone, each code lets you sign in "
        "once instead of a one-time password. They are shown only now."
    ),
    "otp.print": "Print",
    "otp.save_text_file": "Save to text file",
    "otp.connected_heading": "Two-step authentication is connected",
    "otp.method": "Method",
    "otp.last_used": "Last used",
    "otp.recovery_codes_left": "Recovery codes left",
    "otp.enable": "Enable",
    "otp.disable": "Disable",
    "otp.disable_title": "Disable two-step authentication",
    "otp.remembered_computers": "Remembered computers",
    "otp.forget_all": "Forget all",
    "otp.step_install": "Install an authenticator app",
    "otp.any_app_totp": (
        "Any app for time-based (TOTP) one-time passwords works, for example FreeOTP, Aegis, "
        "Google Authenticator or Microsoft Authenticator."
    ),
    "otp.any_app_hotp": (
        "Any app for counter-based (HOTP) one-time passwords works, for example FreeOTP, Aegis, "
        "Google Authenticator or Microsoft Authenticator."
    ),
    "otp.phone_clock": (
        "Let the phone set its date and time automatically (in its settings): "
        "the codes depend on the clock."
    ),
    "otp.step_add_account": "Add an account in the app",
    "otp.scan_qr": "Scan this QR code with the app.",
    "otp.qr_label": "QR code for your authenticator app",
    "otp.enter_key_by_hand": "Or enter the key by hand:",
    "otp.secret_key": "Secret key",
    "otp.key_type_totp": Plural(
        "Type: Time based · {digits} digits · every {period} second",
        "Type: Time based · {digits} digits · every {period} seconds",
        "period",
    ),
    "otp.key_type_hotp": "Type: Counter based · {digits} digits",
    "otp.open_in_app": "Open in the authenticator app",
    "otp.on_the_phone": "(on the phone itself)",
    "otp.server_time": "Time on the server: {utc}; in your time zone: {local}.",
    "otp.step_enter_code": "Enter the code the app shows",
    "otp.step_enter_codes": "Enter two codes the app shows",
    "otp.first_code": "First code",
    "otp.second_code": "Second code",
    "otp.second_code_hint": "Ask the app for the next code and enter it here.",
    "otp.code_from_app": "Code from the app",
    "otp.code_from_app_hint": "6 digits; spaces are fine.",
    "otp.codes_left_of": "{left} of {total} recovery codes are left.",
    "otp.code": "Code",
    "otp.used": "Used",
    "otp.from_address": "From address",
    "otp.code_number": "No. {number}",
    "otp.not_used": "Not used",
    "otp.source_mobile": "Mobile app",
    "otp.source_hardware": "Hardware token",
    "otp.kind_totp": "TOTP (time based)",
    "otp.kind_hotp": "HOTP (counter based)",
    "otp.secret_empty": "Enter the secret key supplied with the device.",
    "otp.secret_format": "The secret key must be hexadecimal (0-9, A-F) or Base32 (A-Z, 2-7).",
    "otp.secret_short": (
        "The secret key is too short: it must have at least {bits} bits "
        "({digits} hex digits or 16 Base32 characters)."
    ),
    "otp.secret_long": (
        "The secret key is too long: it may have at most {bits} bits ({digits} hex digits)."
    ),
    "otp.secret_odd_hex": "A hexadecimal secret key needs an even number of digits.",
    "otp.secret_base32_length": (
        "The Base32 secret key has a wrong length: check for a missing or extra character."
    ),
    "otp.format_hex": "hexadecimal",
    "otp.format_base32": "Base32",
    "otp.clock_drift": Plural(
        "Clock drift: {seconds} second.", "Clock drift: {seconds} seconds.", "seconds"
    ),
    "otp.clock_behind": "your phone's clock is about {duration} behind",
    "otp.clock_ahead": "your phone's clock is about {duration} ahead",
    "otp.settings_choose_type": "Choose TOTP or HOTP.",
    "otp.settings_issuer_length": Plural(
        "The issuer needs 1 to {max} character.", "The issuer needs 1 to {max} characters.", "max"
    ),
    "otp.settings_issuer_colon": "The issuer cannot contain a colon or control characters.",
    "otp.settings_no_group": "Choose at least one group for which two-step is required.",
    # Status labels of a person's two-step state (the data-otp-status values)
    "status.not_configured": "Not configured",
    "status.active": "Enabled",
    "status.disabled": "Disabled",
    "status.pending": "In grace period",
    "status.overdue": "Overdue",
    "status.locked": "Locked",
    "status.any": "Any state",
    "status.pending.choice": "Required, in the grace period",
    "status.overdue.choice": "Required, overdue",
    "status.unprotected.choice": "No active device (any reason)",
    "status.pending.explained": "Not connected yet — required, in the grace period",
    "status.overdue.explained": "Not connected — required, the grace period is over",
    "status.locked.explained": "Locked after too many wrong codes",
    "status.active.counted": Plural("{count} connected", "{count} connected"),
    "status.pending.counted": Plural("{count} in grace", "{count} in grace"),
    "status.overdue.counted": Plural("{count} overdue", "{count} overdue"),
    "status.disabled.counted": Plural("{count} disabled", "{count} disabled"),
    "status.locked.counted": Plural("{count} locked", "{count} locked"),
    "status.not_configured.counted": Plural("{count} not configured", "{count} not configured"),
    "status.unprotected_admins.counted": Plural(
        "{count} administrator without two-step", "{count} administrators without two-step"
    ),
    "status.active.who": "users with an active device",
    "status.pending.who": "users who must still connect, within their grace period",
    "status.overdue.who": "users whose grace period is over",
    "status.disabled.who": "users whose device is switched off",
    "status.locked.who": "users locked out of the second step",
    "status.not_configured.who": "users without a device who are not required to have one",
    "status.unprotected_admins.who": "administrators with no device that asks for codes",
    # Administration
    "admin.overview": "Overview",
    "admin.users": "Users",
    "admin.otp_settings_path": "Settings → Proactive protection → Two-step authentication",
    "admin.events": "Event log",
    "admin.event_time": "Time",
    "admin.event": "Event",
    "admin.event_outcome": "Outcome",
    "admin.event_actor": "Actor",
    "admin.event_subject": "Subject",
    "admin.event_details": "Details",
    "admin.download_csv": "Download CSV",
    "admin.no_events": "No events match these filters.",
    "admin.search_users": "Search login, name or e-mail",
    "admin.add_user": "Add a user",
    "admin.add_user_link": "add a user",
    "admin.no_users": "No user matches. Change the search or {add}.",
    "admin.id": "ID",
    "admin.state": "State",
    "admin.user_active": "Active",
    "admin.user_blocked": "Blocked",
    "admin.otp_on": "Two-step authentication enabled",
    "admin.otp_off": "Two-step authentication disabled",
    "admin.default_algorithm": "Default algorithm",
    "admin.mandatory": "Mandatory",
    "admin.mandatory_for": Plural(
        "Yes, for {groups}, with {days} day to connect",
        "Yes, for {groups}, with {days} days to connect",
        "days",
    ),
    "admin.no_group": "no group",
    "admin.yes": "Yes",
    "admin.no": "No",
    "admin.count_users": Plural("{count} user", "{count} users"),
    "admin.count_active": Plural("{count} active", "{count} active"),
    "admin.count_blocked": Plural("{count} blocked", "{count} blocked"),
    "admin.count_administrators": Plural("{count} administrator", "{count} administrators"),
    "admin.otp_unloaded": "The two-step state could not be loaded. Reload the page.",
    "admin.otp_off_for_user": (
        "Two-step authentication is switched off for the whole console, so it cannot be managed "
        "for this user. An administrator can switch it on in {settings}."
    ),
    "admin.method_totp": "TOTP (time based), {digits} digits, {period}-second step, {algorithm}",
    "admin.method_totp_t0": (
        "TOTP (time based), {digits} digits, {period}-second step, T0 {t0}, {algorithm}"
    ),
    "admin.method_hotp": "HOTP (counter based), {digits} digits, {algorithm}",
    "admin.source": "Source",
    "admin.connected": "Connected",
    "admin.disabled_until": "Disabled until",
    "admin.enabled_by_hand": "enabled again by hand",
    "admin.clock_drift": "Clock drift",
    "admin.drift_seconds": Plural("{seconds} second", "{seconds} seconds", "seconds"),
    "admin.next_counter": "Next counter",
    "admin.recovery_switched_off": "(recovery codes are switched off)",
    "admin.failed_attempts": "Failed attempts",
    "admin.locked_until": "Locked until",
    "admin.grace_deadline": "Grace deadline",
    "admin.lock": "Lock",
    "admin.unlock": "Unlock",
    "admin.clear_failed": "Clear failed attempts",
    "admin.connect_new_device": "Connect a new device",
    "admin.connect_device": "Connect a device",
    "admin.new_device_replaces": (
        "A new device replaces this one; the old recovery codes stop working."
    ),
    "admin.connect_mobile_totp": "Connect mobile device (TOTP)",
    "admin.connect_mobile_hotp": "Connect mobile device (HOTP)",
    "admin.connect_hardware": "Connect hardware token",
    "admin.synchronise": "Synchronise",
    "admin.sync_hint_totp": (
        "When the device's clock has drifted, enter two codes it shows one after the other."
    ),
    "admin.sync_hint_hotp": (
        "When the device's counter has drifted, enter two codes it shows one after the other."
    ),
    "admin.disable_days_hint": Plural(
        "0 = until enabled again; 1 to {max} day, after which it switches itself back on.",
        "0 = until enabled again; 1 to {max} days, after which it switches itself back on.",
        "max",
    ),
    "admin.understand_disable": "I understand that signing in will ask only for the password.",
    "admin.confirm_disable": "Disable two-step authentication for {login}?",
    "admin.recovery_codes_of": "Recovery codes of {login}",
    "admin.codes_left": "({left} left)",
    "admin.remove_device_title": "Remove the device",
    "admin.remove_device": "Remove device",
    "admin.understand_remove": (
        "I understand that the device and its recovery codes will be removed."
    ),
    "admin.confirm_remove": "Remove the device and the recovery codes of {login}?",
    "admin.more_days": "More days to connect",
    "admin.more_days_hint": "Added to the later of today and the current deadline (1–365).",
    "admin.give_more_days": "Give more days",
    "admin.exemption": "Exemption from mandatory two-step",
    "admin.exemption_hint": "Leave empty to end an exemption.",
    "admin.save_exemption": "Save exemption",
    "admin.no_codes_hand_to": "No recovery codes yet. Generate a set below and hand it to {login}.",
    "admin.no_codes_no_device": "No recovery codes yet: they come with a connected device.",
    "admin.otp_off_no_codes": (
        "Two-step authentication is switched off for the whole console, so no codes can be made."
    ),
    "admin.codes_switched_off": "Recovery codes are switched off in {settings}.",
    "admin.no_device_for_codes": "{login} has no connected device; recovery codes come with one.",
    "admin.codes_hand_over": "They are shown once: hand them to {login}.",
    "admin.confirm_new_codes": "Generate new codes for {login}? The old ones will stop working.",
    "admin.two_step_of": "Two-step authentication of {login}",
    "admin.back_to_profile": "Back to the user's profile",
    "admin.connect_for": "Connect a device for {login}",
    "admin.connection_options": "Connection options",
    "admin.option_mobile_totp": "Mobile device, TOTP",
    "admin.option_mobile_hotp": "Mobile device, HOTP",
    "admin.option_hardware_totp": "Hardware token, TOTP",
    "admin.option_hardware_hotp": "Hardware token, HOTP",
    "admin.otp_off_no_connect": (
        "Two-step authentication is switched off for the whole console, so no device can be "
        "connected. An administrator can switch it on in {settings}."
    ),
    "admin.replacing": (
        "The new device replaces {login}'s current one once its codes verify. "
        "The old recovery codes will stop working."
    ),
    "admin.mobile_heading": "Mobile device, {kind}",
    "admin.phone_at_hand": (
        "Do this with {login}'s phone at hand: scan the code with their authenticator app, "
        "then enter what the app shows."
    ),
    "admin.hardware_heading": "Hardware token, {kind}",
    "admin.hardware_intro_totp": (
        "Enter the secret key supplied with the token (hexadecimal or Base32) and the password "
        "it shows now (a second, later one refines the clock search). The console searches wide: "
        "HOTP counters up to 15,000, TOTP offsets of ±180 steps."
    ),
    "admin.hardware_intro_hotp": (
        "Enter the secret key supplied with the token (hexadecimal or Base32) and two passwords "
        "it shows one after the other. The console searches wide: "
        "HOTP counters up to 15,000, TOTP offsets of ±180 steps."
    ),
    "admin.choose_option": "Choose one of the connection options above.",
    "admin.start_time_hint": "Unix time the token counts from; 0 unless the vendor says otherwise.",
    "admin.algorithm_hint": "Automatic: SHA-1, or SHA-256 for secrets longer than 25 bytes.",
    "admin.first_password": "First password",
    "admin.second_password": "Second password",
    "admin.second_password_hotp": "Required for HOTP.",
    "admin.second_password_totp": "Optional: the next password, for a wider clock search.",
    "admin.new_user": "New user",
    "admin.user_heading": "User {login}",
    "admin.active_hint": "A blocked user cannot sign in and is signed out at once.",
    "admin.password_hint": (
        "Leave empty to keep the current password. Setting one signs the user out everywhere."
    ),
    "admin.no_fields_shown": "No fields are shown on this tab.",
    "admin.create_user": "Create user",
    "admin.events_after_save": "Events appear here once the user is saved.",
    "admin.no_user_events": "No security events for this user yet.",
    "admin.otp_settings_title": "Two-step authentication settings",
    "admin.otp_settings_tab_parameters": "Parameters",
    "admin.proactive_protection": "Proactive protection",
    "admin.switched_on": "Switched on {when}.",
    "admin.switched_off": "Switched off {when}.",
    "admin.confirm_disable_all": (
        "Disable two-step authentication for everyone? Signing in will ask only for passwords."
    ),
    "admin.enable_two_step": "Enable two-step authentication",
    "admin.how_it_works": "How it works",
    "admin.how.otp_term": "one-time password",
    "admin.how.intro": (
        "With two-step authentication a user signs in with their password and then with a "
        "{one_time_password}: a short code made by an app on their phone (or a hardware token) "
        "from a secret shared with the console when the device was connected. A stolen password "
        "alone is no longer enough."
    ),
    "admin.how.hotp": (
        "counter based. Each code is made from a counter that goes up by one for every code; "
        "the console tries the next few counters (the password check window)."
    ),
    "admin.how.totp": (
        "time based. A new code every 30 seconds, from the current time; the device's clock "
        "must be right, and the console learns a small drift."
    ),
    "admin.how.resync_term": "resynchronises",
    "admin.how.resync": (
        "When a counter or a clock has run far ahead or behind, an administrator "
        "{resynchronises} the device from two consecutive codes on the user's profile, "
        'tab "Two-step authentication".'
    ),
    "admin.how.once": (
        "Each code works once. Wrong codes lock the second step for a while; "
        "administrators can unlock it."
    ),
    "admin.how.who_connects": (
        "Users connect their phone on My page → Security; administrators connect devices, "
        "hardware tokens included, and manage them on the user's profile."
    ),
    "admin.how.profile_form_settings": "the user profile form settings",
    "admin.how.missing_tab": (
        'Missing the "Two-step authentication" tab on a user\'s profile? A saved form layout '
        "can hide it: open {form_settings} (the gear at the right of the profile's tabs), tick "
        "the tab again and save — or reset the settings."
    ),
    "admin.hint.default_type": (
        "Used by every connection that does not choose: My page and the forced connection "
        "at sign-in."
    ),
    "admin.hint.totp_window": (
        "How many 30-second steps either side of the device's learned clock drift are "
        "accepted (0–10)."
    ),
    "admin.hint.hotp_window": (
        "HOTP look-ahead: how many counter values after the stored one are tried (1–100)."
    ),
    "admin.hint.allow_remember": (
        'Shows "Remember one-time password on this computer" at the code step.'
    ),
    "admin.hint.remember_days": "How long a remembered computer skips the second step (1–365).",
    "admin.hint.allow_recovery_codes": (
        "Ten single-use codes that replace a one-time password when the phone is lost."
    ),
    "admin.hint.mandatory": "Members of the groups below must connect two-step authentication.",
    "admin.hint.mandatory_days": (
        "Grace period from the user's first sign-in after it becomes mandatory; "
        "0 means at once (0–365)."
    ),
    "admin.hint.max_attempts": (
        "Wrong codes in a row before the second step locks for the account (1–100)."
    ),
    "admin.hint.lockout_minutes": (
        "How long the lock lasts; an administrator can unlock sooner (1–1440)."
    ),
    "admin.hint.log_requests": "Writes an event each time a code is asked for or fails.",
    "admin.hint.issuer": "The name authenticator apps show next to the login. No colon.",
    "admin.all_types": "All types",
    "admin.all_groups": "All groups",
    # Form settings dialog (the gear)
    "gear.title": "Form settings",
    "gear.settings": "Settings",
    "gear.disable_custom": "Disable custom form settings",
    "gear.enable_custom": "Enable custom form settings",
    "gear.dialog_title": "Customize form appearance",
    "gear.form": "Form: {title}.",
    "gear.editing_default": (
        "You are editing the default for every user without settings of their own."
    ),
    "gear.editing_personal": "You are editing your own settings; other users keep theirs.",
    "gear.shows_personal": "The form shows your settings now.",
    "gear.shows_default": "The form shows the default settings now.",
    "gear.shows_default_own_off": (
        "The form shows the default settings now (your own are switched off)."
    ),
    "gear.shows_builtin": "The form shows its built-in layout now.",
    "gear.start_from": "Start from: {mine} · {default}.",
    "gear.start_mine": "my settings",
    "gear.start_default": "the default for all users",
    "gear.later_entries": (
        "Tabs and fields the console adds later appear at their built-in place. "
        "Required ones cannot be hidden."
    ),
    "gear.tab": "Tab “{name}”",
    "gear.tab_required": "Tab “{name}” (required)",
    "gear.tab_label": "Tab label",
    "gear.position": "Position",
    "gear.shown": "Shown",
    "gear.shown_required": "Shown (required)",
    "gear.move_up": "Move up",
    "gear.move_down": "Move down",
    "gear.the_tab": "the tab “{name}”",
    "gear.fields_of_tab": "Fields of the tab “{name}”",
    "gear.field": "Field",
    "gear.label": "Label",
    "gear.on_tab": "On tab",
    "gear.move": "Move",
    "gear.section_heading": "Section heading",
    "gear.section_heading_named": "section heading “{label}”",
    "gear.required": "(required)",
    "gear.label_of": "Label of {name}",
    "gear.always_shown": "{name} is required and always shown",
    "gear.keep": "Keep {name}",
    "gear.show": "Show {name}",
    "gear.position_of": "Position of {name}",
    "gear.tab_of": "Tab of {name}",
    "gear.up": "Up",
    "gear.down": "Down",
    "gear.move_row_up": ": move {name} up",
    "gear.move_row_down": ": move {name} down",
    "gear.no_fields": "No fields on this tab.",
    "gear.add_section": "Add a section heading to “{name}”",
    "gear.own_content": "This tab has content of its own and takes no fields.",
    "gear.save_for": "Save for",
    "gear.save_for_me": "Save for me",
    "gear.save_for_all": "Set these settings for all users by default",
    "gear.reset": "Reset",
    "gear.reset_to_default": "Reset to the default layout",
    "gear.reset_to_builtin": "Reset to the built-in layout",
    "gear.confirm_reset": "Delete your settings of this form?",
    "gear.delete_default": "Delete the default settings",
    "gear.confirm_delete_default": "Delete the default settings of this form for all users?",
    "gear.tab_moved": "Tab “{name}” is now at position {position} of {count}.",
    "gear.row_moved": "{name} is now on the tab “{tab}”, position {position} of {count}.",
    "gear.drag_tab": "Drag to move this tab",
    "gear.drag_field": "Drag to move this field, also to another tab",
    "gear.preview": "Preview",
    "gear.preview_note": (
        "The tabs of the form as they will look once saved; hidden ones are greyed out."
    ),
    "gear.hidden": " (hidden)",
    # Language and time zone
    "preferences.title": "Language and time zone",
    "preferences.intro": (
        "The console speaks to you in this language and shows every time in this zone."
    ),
    "preferences.saved": "Your language and time zone are saved.",
    "preferences.unchanged": "Nothing to change.",
    "preferences.unknown_language": "Choose one of the languages offered.",
    "preferences.unknown_timezone": (
        "There is no such time zone. Choose one from the list, for example Europe/Moscow."
    ),
    "preferences.language_of_browser": "As my browser asks",
    "preferences.timezone_of_console": "The console's zone ({zone})",
    "preferences.timezone_hint": "An IANA name such as Europe/Moscow or America/New_York.",
    "preferences.now_in_zone": "Your time now: {time}.",
    "preferences.switch_language": "Language",
    "language.en": "English",
    "language.ru": "Русский",
    "form.field.language": "Language",
    "form.field.timezone": "Time zone",
    "nav.settings": "Language and time zone",
    # Security events: what each type means, and how it ended
    "event.sign_in": "Signed in",
    "event.sign_in_failed": "Sign-in failed",
    "event.sign_out": "Signed out",
    "event.rate_limited": "Too many attempts",
    "event.session_ended": "Session ended",
    "event.user_created": "User created",
    "event.user_changed": "User changed",
    "event.user_blocked": "User blocked",
    "event.user_unblocked": "User unblocked",
    "event.password_changed": "Password changed",
    "event.preferences_changed": "Language or time zone changed",
    "event.access_denied": "Access denied",
    "event.otp_enabled": "Two-step authentication enabled for the console",
    "event.otp_disabled_globally": "Two-step authentication disabled for the console",
    "event.otp_settings_changed": "Two-step settings changed",
    "event.otp_connected": "Device connected",
    "event.otp_connect_failed": "Device connection failed",
    "event.otp_disabled": "Two-step authentication disabled for the user",
    "event.otp_reenabled": "Two-step authentication enabled again",
    "event.otp_deleted": "Device removed",
    "event.otp_synchronized": "Device synchronized",
    "event.otp_code_requested": "One-time password asked for",
    "event.otp_code_accepted": "One-time password accepted",
    "event.otp_code_failed": "One-time password incorrect",
    "event.otp_locked": "Second step locked",
    "event.otp_unlocked": "Second step unlocked",
    "event.otp_grace_started": "Days to connect started",
    "event.otp_grace_extended": "Days to connect extended",
    "event.otp_exempted": "Exempted from mandatory two-step",
    "event.recovery_codes_generated": "New recovery codes generated",
    "event.recovery_code_used": "Recovery code used",
    "event.device_remembered": "Computer remembered",
    "event.remembered_devices_forgotten": "Remembered computers forgotten",
    "event.reauthenticated": "Password confirmed again",
    "event.form_layout_saved": "Form settings saved",
    "event.form_layout_reset": "Form settings reset",
    "event.form_layout_disabled": "Custom form settings turned off",
    "event.form_layout_enabled": "Custom form settings turned on",
    "event.outcome.success": "success",
    "event.outcome.failure": "failure",
    "event.outcome.refused": "refused",
    "group.administrators": "Administrators",
    "group.employees": "Employees",
    "event.detail.reason": "reason",
    "event.detail.method": "method",
    "event.detail.until": "until",
    "event.detail.deadline": "deadline",
    "event.detail.days": "days",
    "event.detail.count": "count",
    "event.detail.left": "left",
    "event.detail.attempt": "attempt",
    "event.detail.attempts": "attempts",
    "event.detail.type": "algorithm",
    "event.detail.source": "device",
    "event.detail.drift_steps": "drift in time steps",
    "event.detail.drift_seconds": "drift in seconds",
    "event.detail.groups": "groups",
    "event.detail.changed": "changed",
    "event.detail.sessions_ended": "sessions ended",
    "event.detail.which": "which",
    "event.detail.form": "form",
    "event.detail.scope": "for",
    "event.detail.path": "page",
    "event.detail.language": "language",
    "event.detail.timezone": "time zone",
    "event.value.unknown_login": "unknown login",
    "event.value.wrong_password": "wrong password",
    "event.value.blocked": "user blocked",
    "event.value.current_password_wrong": "current password wrong",
    "event.value.own_mandatory": "own mandatory two-step",
    "event.value.mandatory": "mandatory two-step",
    "event.value.until_re_enabled": "until enabled again",
    "event.value.ended": "ended",
    "event.value.one_session": "one session",
    "event.value.other_sessions": "the other sessions",
    "event.value.mobile": "mobile device",
    "event.value.hardware": "hardware token",
    "event.value.password": "password",
    "event.value.otp": "one-time password",
    "event.value.recovery_code": "recovery code",
    "event.value.connect": "connection at sign-in",
    "event.value.personal": "oneself",
    "event.value.default": "everyone (default)",
    # Notices (My page and e-mail): a subject, and a sentence filled when it is read
    "notice.otp_connected.subject": "Two-step authentication connected",
    "notice.otp_connected.text": (
        "Two-step authentication was connected to your account on {time}. From now on a "
        "sign-in asks for a one-time password after the password."
    ),
    "notice.otp_connected_by.text": (
        "{actor} connected a two-step device to your account on {time}."
    ),
    "notice.otp_disabled.subject": "Two-step authentication switched off",
    "notice.otp_disabled.text": (
        "{actor} switched off two-step authentication for your account on {time}, until {until}."
    ),
    "notice.otp_disabled_forever.text": (
        "{actor} switched off two-step authentication for your account on {time}, until it "
        "is switched on again."
    ),
    "notice.otp_enabled.subject": "Two-step authentication switched back on",
    "notice.otp_enabled.text": (
        "{actor} switched two-step authentication back on for your account on {time}."
    ),
    "notice.otp_removed.subject": "Two-step device removed",
    "notice.otp_removed.text": (
        "{actor} removed the two-step device and the recovery codes of your account on "
        "{time}. Connect a device again on My page."
    ),
    "notice.recovery_codes_generated.subject": "New recovery codes",
    "notice.recovery_codes_generated.text": (
        "New recovery codes were made for your account on {time}. The earlier codes no longer work."
    ),
    "notice.recovery_code_used.subject": "A recovery code was used",
    "notice.recovery_code_used.text": Plural(
        "A recovery code was used to sign in to your account on {time}. {left} code is left.",
        "A recovery code was used to sign in to your account on {time}. {left} codes are left.",
        "left",
    ),
    "notice.otp_locked.subject": "Second step locked",
    "notice.otp_locked.text": (
        "The second step of your account was locked on {time} after too many wrong codes, "
        "until {until}. If it was not you, change your password and tell an administrator."
    ),
    "notice.new_browser.subject": "Sign-in from a new browser",
    "notice.new_browser.text": (
        "Your account was signed in to from a browser not seen before: {browser}, address "
        "{ip}, on {time}. If it was not you, change your password and tell an administrator."
    ),
    "notice.password_changed.subject": "Password changed",
    "notice.password_changed.text": (
        "The password of your account was changed on {time}. If it was not you, tell an "
        "administrator at once."
    ),
    "notice.password_changed_by.text": ("{actor} set a new password for your account on {time}."),
    "notice.grace_started.subject": "Two-step authentication is required",
    "notice.grace_started.text": (
        "Two-step authentication is now mandatory for your account. Connect an "
        "authenticator app on My page before {deadline}."
    ),
    "notice.grace_reminder_3_days.subject": "Three days left to connect two-step authentication",
    "notice.grace_reminder_3_days.text": (
        "Connect two-step authentication on My page before {deadline}: after that, signing "
        "in will ask you to connect it first."
    ),
    "notice.grace_reminder_1_day.subject": "One day left to connect two-step authentication",
    "notice.grace_reminder_1_day.text": (
        "Connect two-step authentication on My page before {deadline}: after that, signing "
        "in will ask you to connect it first."
    ),
    "notice.grace_overdue.subject": "The time to connect two-step authentication is over",
    "notice.grace_overdue.text": (
        "The time to connect two-step authentication ended on {deadline}. Your next sign-in "
        "will ask you to connect an authenticator app before going on."
    ),
    "notice.admin_locked.subject": "An administrator's second step is locked",
    "notice.admin_locked.text": (
        "The second step of administrator {login} was locked on {time} after too many wrong "
        "codes, until {until}."
    ),
    "notice.two_step_switched_off.subject": "Two-step authentication switched off for everyone",
    "notice.two_step_switched_off.text": (
        "{actor} switched two-step authentication off for the whole console on {time}. "
        "Every sign-in now asks for the password only."
    ),
    "notice.actor_administrator": "Administrator {login}",
    "notice.actor_command_line": "An administrator on the server's command line",
    "notice.title": "Notices",
    "notice.none": "No notices yet.",
    "notice.unread": "new",
    "notice.mark_all_read": "Mark all as read",
    "notice.marked_read": "All notices are marked as read.",
    "notice.unread_count": Plural("{count} new notice", "{count} new notices"),
    "notice.nav": "Notices",
    "mail.greeting": "Hello, {name}.",
    "mail.see_notices": "Your notices: {url}",
    "mail.footer": (
        "This message was sent automatically by {product}; replies are not read. It never "
        "holds a password or a code, and nobody will ask you for one."
    ),
    "mail.test.subject": "Test message",
    "mail.test.text": "This is a test message from {product}, sent on {time}.",
    # Settings → Notifications
    "notify.title": "Notifications",
    "notify.intro": (
        "Every notice appears on the person's My page. Choose which kinds are also sent "
        "by e-mail to people who have an address."
    ),
    "notify.kinds": "Sent by e-mail",
    "notify.saved": "The notification settings are saved.",
    "notify.unchanged": "Nothing to change.",
    "notify.unknown_kind": "One of the chosen kinds does not exist.",
    "notify.mail_server": "Mail server",
    "notify.no_mail_server": (
        "No mail server is configured (FLASK_MAIL_SERVER): notices stay on My page."
    ),
    "notify.security": "Connection security",
    "notify.sender": "Sender",
    "notify.username": "User name",
    "notify.password_set": "A password is set (not shown).",
    "notify.public_url": "Links in messages",
    "notify.no_public_url": (
        "No public address is configured (FLASK_PUBLIC_URL): messages hold no links."
    ),
    "notify.send_test": "Send a test message",
    "notify.test_to": "A test message goes to your own address, {email}.",
    "notify.test_no_address": "Your account has no e-mail address to send a test message to.",
    "notify.test_sent": "The server accepted the test message: {reply}",
    "notify.test_failed": "The test message was not sent: {reply}",
    "notify.failed_title": "Messages not delivered",
    "notify.failed_none": "No message has failed.",
    "notify.failed_recipient": "Recipient",
    "notify.failed_kind": "Notice",
    "notify.failed_attempts": "Attempts",
    "notify.failed_answer": "Server's answer",
    "notify.queue": "Waiting to be sent: {pending}. Sent: {sent}. Not delivered: {failed}.",
    "nav.notifications_settings": "Notifications",
    "event.notice_settings_changed": "Notification settings changed",
    "event.test_mail_sent": "Test message sent",
    "event.detail.not_mailed": "not sent by e-mail",
    "otp.temporary_code_title": "Temporary code",
    "otp.temporary_code_hint": (
        "For a user who cannot use their device (left at home, lost): a code that works in "
        "place of a one-time password for a few hours, any number of times. A new code "
        "replaces the earlier one; connecting a new device ends it."
    ),
    "otp.temporary_code_hours_hint": Plural(
        "How long it works: 1 to {max} hour.", "How long it works: 1 to {max} hours.", "max"
    ),
    "otp.temporary_code_hours": Plural(
        "Choose 1 to {max} hour.", "Choose 1 to {max} hours.", "max"
    ),
    "otp.temporary_code_issue": "Issue a temporary code",
    "otp.temporary_code_revoke": "Revoke the temporary code",
    "otp.temporary_code_revoked": "The temporary code is revoked.",
    "otp.temporary_code_none": "No temporary code is active.",
    "otp.temporary_code_active": "A temporary code is active until {until}.",
    "otp.temporary_code_of": "Temporary code for {login}",
    "otp.temporary_code_shown_once": (
        "Give this code to {login} in person or by telephone; it is shown only now. It works "
        "in place of a one-time password until {until}, and stops earlier if you revoke it or "
        "a new device is connected. It never remembers a computer."
    ),
    "form.field.hours": "Hours",
    "mypage.temporary_code_active": (
        "An administrator gave you a temporary code: it works in place of a one-time "
        "password until {until}."
    ),
    "event.temporary_code_issued": "Temporary code issued",
    "event.temporary_code_revoked": "Temporary code revoked",
    "event.temporary_code_used": "Temporary code used",
    "event.detail.hours": "hours",
    "event.value.temporary_code": "temporary code",
    "notice.temporary_code_issued.subject": "A temporary code was issued",
    "notice.temporary_code_issued.text": (
        "{actor} issued a temporary code for your account on {time}: it works in place of a "
        "one-time password until {until}. If you did not ask for one, tell an administrator "
        "at once."
    ),
    "bulk.title": "Change many users at once",
    "bulk.legend": "Two-step authentication of the selected users",
    "bulk.select": "Select",
    "bulk.select_user": "Select {login}",
    "bulk.select_page": "Select every user on this page",
    "bulk.all_matching": Plural(
        "All {count} user matching this filter, on every page",
        "All {count} users matching this filter, on every page",
    ),
    "bulk.all_matching_capped": Plural(
        "All users matching this filter (more than {count}), on every page",
        "All users matching this filter (more than {count}), on every page",
    ),
    "bulk.action": "Action",
    "bulk.action.disable": "Switch two-step off for some days",
    "bulk.action.enable": "Switch two-step back on",
    "bulk.action.unlock": "Unlock the second step",
    "bulk.action.defer": "Give more days to connect",
    "bulk.action.exempt": "Exempt from mandatory two-step until a date",
    "bulk.action.delete_device": "Remove the device",
    "bulk.action.remind": "Remind to connect",
    "bulk.days_hint": Plural(
        "Switching off: 0 (until re-enabled) or 1 to {max} day. More days to connect: 1 to 365.",
        "Switching off: 0 (until re-enabled) or 1 to {max} days. More days to connect: 1 to 365.",
        "max",
    ),
    "bulk.until_hint": "For an exemption: the day it ends.",
    "bulk.review": "Review the change",
    "bulk.unknown_action": "Choose one of the actions offered.",
    "bulk.bad_ids": "The selection could not be read. Go back to the list and select again.",
    "bulk.nothing_selected": (
        "Nobody is selected. Tick users in the list, or all users matching the filter."
    ),
    "bulk.will_change": Plural(
        "{count} user will change: {what}",
        "{count} users will change: {what}",
    ),
    "bulk.will_refuse": Plural(
        "{count} user will be left as they are",
        "{count} users will be left as they are",
    ),
    "bulk.reason": "Why",
    "bulk.and_more": Plural("and {count} more", "and {count} more"),
    "bulk.apply": Plural("Change {count} user", "Change {count} users"),
    "bulk.nothing_to_change": "None of the selected users can be changed: nothing will be done.",
    "bulk.back_to_list": "Back to the list of users",
    "bulk.what.disable": Plural(
        "two-step authentication switched off for {days} day.",
        "two-step authentication switched off for {days} days.",
        "days",
    ),
    "bulk.what.disable_forever": "two-step authentication switched off until it is enabled again.",
    "bulk.what.enable": "two-step authentication switched back on.",
    "bulk.what.unlock": "the second step unlocked.",
    "bulk.what.defer": Plural(
        "{days} more day to connect.",
        "{days} more days to connect.",
        "days",
    ),
    "bulk.what.exempt": "exempt from mandatory two-step authentication until {until}.",
    "bulk.what.delete_device": "the device, its recovery codes and remembered computers removed.",
    "bulk.what.remind": "a reminder to connect two-step authentication.",
    "bulk.refused_administrator": (
        "An administrator: only administrators change an administrator's two-step."
    ),
    "bulk.refused_has_device": "Has a device already.",
    "bulk.refused_not_mandatory": "Two-step authentication is not mandatory for this user.",
    "bulk.done": Plural(
        "{changed} user changed, {refused} refused.",
        "{changed} users changed, {refused} refused.",
        "changed",
    ),
    "bulk.refused_line": Plural(
        "{reason} ({count} user: {users})",
        "{reason} ({count} users: {users})",
    ),
    "notice.connect_reminder.subject": "Please connect two-step authentication",
    "notice.connect_reminder.text": (
        "An administrator reminds you to connect two-step authentication on "
        "My page → Security before {deadline}."
    ),
    "notice.connect_reminder_no_deadline.text": (
        "An administrator reminds you to connect two-step authentication on My page → Security."
    ),
    "admin.reports": "Reports",
    "reports.title": "Two-step authentication by group",
    "reports.intro": (
        "How many users of each group are in each two-step state. A user in several groups"
        " counts in each. The filters are those of the user list."
    ),
    "reports.group": "Group",
    "reports.total": "Users",
    "reports.exempt": "Exempt",
    "reports.exempt_hint": "Exempt users are counted in their state too.",
    "reports.shares": "Shares of the states",
    "reports.csv_hint": (
        "One row per user: state, method, dates in UTC, recovery codes left and remembered"
        " computers."
    ),
    # --- The hardware token inventory ---------------------------------------------------
    "admin.tokens": "Hardware tokens",
    "tokens.title": "Hardware token inventory",
    "tokens.intro": (
        "Tokens imported from the vendor's file wait here until they are assigned to a user on"
        " the user's two-step tab. Their seeds are stored encrypted."
    ),
    "tokens.counts": "Tokens by state",
    "tokens.state.unassigned": "Not assigned",
    "tokens.state.assigned": "Assigned",
    "tokens.state.lost": "Lost",
    "tokens.state.retired": "Retired",
    "tokens.all_states": "All states",
    "tokens.field.state": "State",
    "tokens.field.serial": "Serial number",
    "tokens.field.serial_search": "Serial number contains",
    "tokens.field.file": "PSKC or CSV file",
    "tokens.field.password": "File password",
    "tokens.field.key": "Pre-shared key (hex)",
    "tokens.field.to": "Put the token",
    "tokens.column.type": "Type",
    "tokens.column.user": "User",
    "tokens.column.imported": "Imported",
    "tokens.column.actions": "Actions",
    "tokens.digits": Plural("{count}-digit code", "{count}-digit codes"),
    "tokens.by_command_line": "command line",
    "tokens.none": "No tokens match.",
    "tokens.take_back": "Take back",
    "tokens.mark": "Mark",
    "tokens.import_title": "Import tokens",
    "tokens.import_hint": (
        "A PSKC file (RFC 6030), plain or encrypted with a password or a pre-shared AES key, or"
        " a CSV file with the columns serial,secret,type,digits,period,counter (the secret in"
        " hex or Base32). The whole file is imported, or nothing."
    ),
    "tokens.password_hint": "For a PSKC file encrypted with a password.",
    "tokens.key_hint": "For a PSKC file encrypted with a pre-shared key: 32, 48 or 64 hex digits.",
    "tokens.import_button": "Import",
    "tokens.file_needed": "Choose a file.",
    "tokens.imported": Plural("Imported {count} token.", "Imported {count} tokens."),
    "tokens.import_refused": Plural(
        "Nothing was imported: {count} problem.", "Nothing was imported: {count} problems."
    ),
    "tokens.problem_at_line": "Line {line}: {problem}",
    "tokens.problem_at_key": "Key {entry}: {problem}",
    "tokens.problem.empty": "The file is empty.",
    "tokens.problem.too_large": "The file is larger than {megabytes} MB.",
    "tokens.problem.password_and_key": "Give the password or the key, not both.",
    "tokens.problem.xml_unsafe": (
        "The file declares a document type, entities or external references; they are not allowed."
    ),
    "tokens.problem.xml_invalid": "The file is not well-formed XML.",
    "tokens.problem.pskc_invalid": "The file is not a PSKC key container (RFC 6030).",
    "tokens.problem.no_tokens": "The file holds no tokens.",
    "tokens.problem.password_needed": "The file is encrypted with a password: give it.",
    "tokens.problem.key_needed": "The file is encrypted with a pre-shared key: give it.",
    "tokens.problem.key_format": "The key must be 32, 48 or 64 hex digits.",
    "tokens.problem.password_unusable": "The file's key cannot be derived from a password.",
    "tokens.problem.password_wrong": "The password is wrong: it does not open the file.",
    "tokens.problem.key_wrong": "The key is wrong: it does not open the file.",
    "tokens.problem.decryption_failed": "The seed cannot be decrypted or its MAC is wrong.",
    "tokens.problem.type_unsupported": "Unknown token type {type}: totp or hotp.",
    "tokens.problem.encoding": "The file is neither XML nor UTF-8 text.",
    "tokens.problem.csv_invalid": "The CSV cannot be read here.",
    "tokens.problem.csv_columns": "Expected the columns {columns}.",
    "tokens.problem.digits_invalid": "The number of digits must be 6 or 8.",
    "tokens.problem.period_invalid": "The period must be 10 to 300 seconds.",
    "tokens.problem.counter_invalid": "The counter must be a whole number, 0 or more.",
    "tokens.problem.secret_format": "The secret is neither hex nor Base32.",
    "tokens.problem.serial_missing": "The serial number is missing.",
    "tokens.problem.serial_invalid": (
        "The serial number must be at most {max} printable characters without spaces."
    ),
    "tokens.problem.secret_missing": "The secret is missing.",
    "tokens.problem.secret_length": "The secret must be {min} to {max} bits.",
    "tokens.problem.serial_twice": "Serial number {serial} is in the file twice.",
    "tokens.problem.serial_known": "Serial number {serial} is in the inventory already.",
    "tokens.problem.serial_race": (
        "Another import took some of these serial numbers meanwhile. Try again."
    ),
    "tokens.unknown_serial": "No token with this serial number is in the inventory.",
    "tokens.not_on_shelf": "This token is not available: it is assigned, lost or retired.",
    "tokens.bad_target": "Choose where the token goes: not assigned, lost or retired.",
    "tokens.out_of_use": "This token is lost or retired; its seed is gone.",
    "tokens.already_on_shelf": "This token is not assigned.",
    "tokens.taken_back.unassigned": "Token {serial} is back in the inventory.",
    "tokens.taken_back.lost": "Token {serial} is marked lost; its seed is destroyed.",
    "tokens.taken_back.retired": "Token {serial} is retired; its seed is destroyed.",
    "tokens.assigned": "Token {serial} is now the user's device.",
    "admin.option_inventory": "Hardware token from the inventory",
    "admin.connect_inventory": "Assign a token from the inventory",
    "admin.inventory_heading": "Hardware token from the inventory",
    "admin.inventory_intro": (
        "Type the token's serial number and the password it shows. For an event-based (HOTP)"
        " token, press its button again and type the second password too."
    ),
    "admin.inventory_second_code": "HOTP tokens: the next password. TOTP tokens: leave empty.",
    "event.tokens_imported": "Hardware tokens imported",
    "event.tokens_import_refused": "Hardware token import refused",
    "event.token_assigned": "Hardware token assigned",
    "event.token_unassigned": "Hardware token taken back",
    "event.detail.serial": "Serial number",
    "event.detail.to": "Now",
    "event.detail.problems": "Problems",
    "event.value.token_unassigned": "in the inventory",
    "event.value.token_lost": "lost",
    "event.value.token_retired": "retired",
    # Application passwords and the API for other services
    "app_password.title": "Application passwords",
    "app_password.intro": (
        "For a mail or calendar client that cannot ask for a one-time code. An application"
        " password works only with the services connected to the console's API, never for"
        " signing in here."
    ),
    "app_password.link": "Application passwords",
    "app_password.count": Plural(
        "You have {count} application password (at most {max}).",
        "You have {count} application passwords (at most {max}).",
    ),
    "form.field.app_password_name": "Name",
    "app_password.name_hint": "Where it will be used, e.g. “Thunderbird on the laptop”.",
    "app_password.create": "Create application password",
    "app_password.name_required": "Give the application password a name.",
    "app_password.name_invalid": (
        "The name must be at most 100 characters long, without control characters."
    ),
    "app_password.too_many": Plural(
        "You already have {max} application password, the most allowed. Revoke one first.",
        "You already have {max} application passwords, the most allowed. Revoke one first.",
        "max",
    ),
    "app_password.created_title": "Your new application password",
    "app_password.shown_once": (
        "Enter it in “{name}” now, in place of your password. It is shown only this once;"
        " spaces do not matter."
    ),
    "app_password.none": "There are no application passwords.",
    "app_password.name": "Name",
    "app_password.created": "Created",
    "app_password.last_used": "Last used",
    "app_password.never_used": "never",
    "app_password.used_from": "{time} from {address} via {client}",
    "app_password.revoke": "Revoke",
    "app_password.revoke_all": "Revoke all",
    "app_password.revoked": "The application password was revoked.",
    "app_password.all_revoked": Plural(
        "{count} application password was revoked.",
        "{count} application passwords were revoked.",
    ),
    "app_password.unknown": "There is no such application password.",
    "admin.app_passwords_of": "Application passwords of {login}",
    "api_client.title": "API clients",
    "api_client.intro": (
        "Other services (a VPN gateway, a mail server, the intranet) check people's passwords"
        " and second step through the console's API, with a client key and the console's own"
        " rules."
    ),
    "api_client.docs_link": "API documentation",
    "form.field.api_client_name": "Name",
    "form.field.api_client_scopes": "Scopes",
    "form.field.api_client_networks": "Allowed networks",
    "api_client.scope.validate": (
        "validate — check a password and code, or an application password"
    ),
    "api_client.scope.users_read": "users:read — read a person's two-step state",
    "api_client.networks_hint": (
        "One network a line (10.0.0.0/8) or one address; empty means any address."
    ),
    "api_client.create": "Create client",
    "api_client.name_required": "Give the client a name.",
    "api_client.name_invalid": (
        "The name must be at most 100 characters long, without control characters."
    ),
    "api_client.scopes_required": "Choose at least one scope.",
    "api_client.network_invalid": "“{line}” is neither a network nor an address.",
    "api_client.too_many_networks": Plural(
        "At most {max} network.", "At most {max} networks.", "max"
    ),
    "api_client.created_title": "The key of “{name}”",
    "api_client.key_shown_once": (
        "Give it to the service now: it is shown only this once. The service sends it as"
        " Authorization: Bearer <key>."
    ),
    "api_client.none": "There are no API clients yet.",
    "api_client.name": "Name",
    "api_client.scopes": "Scopes",
    "api_client.networks": "Networks",
    "api_client.any_network": "any address",
    "api_client.created": "Created",
    "api_client.last_used": "Last call",
    "api_client.state": "State",
    "api_client.active": "active",
    "api_client.revoked_at": "revoked {time}",
    "api_client.revoke": "Revoke",
    "api_client.revoke_confirm": "Revoke the key of “{name}”? The service stops working.",
    "api_client.revoked": "The client's key was revoked.",
    "api_client.unknown": "There is no such active client.",
    "event.app_password_created": "Application password created",
    "event.app_password_revoked": "Application password revoked",
    "event.app_password_used": "Application password checked",
    "event.api_client_created": "API client created",
    "event.api_client_revoked": "API client revoked",
    "event.api_validation": "Credentials checked through the API",
    "event.api_refused": "API call refused",
    "event.api_user_read": "Two-step state read through the API",
    "event.detail.client": "client",
    "event.detail.name": "name",
    "event.detail.id": "number",
    "event.detail.result": "result",
    "event.detail.status": "status",
    "event.detail.networks": "networks",
    "event.value.password_changed": "password changed",
    "event.value.accept": "accepted",
    "event.value.reject": "rejected",
    "event.value.locked": "locked",
    "event.value.invalid_credentials": "wrong login or password",
    "event.value.code_required": "no code given",
    "event.value.code_malformed": "not a code",
    "event.value.code_incorrect": "wrong code",
    "event.value.connect_required": "must connect a device first",
    "event.value.directory_unavailable": "the directory could not be reached",
    "event.value.no_second_step": "password alone",
    "event.value.app_password": "application password",
    "notice.app_passwords_revoked.subject": "Your application passwords were revoked",
    "notice.app_passwords_revoked.text": Plural(
        "Your password was changed, so {count} application password stopped working. Make a"
        " new one on My page → Security → Application passwords.",
        "Your password was changed, so your {count} application passwords stopped working."
        " Make new ones on My page → Security → Application passwords.",
    ),
    # Operations: backups, key checks, retention
    "event.events_pruned": "Old events removed",
    # The company directory (LDAP / Active Directory): sign-in, settings, synchronisation
    "directory.unavailable": "The directory cannot be reached; try again later",
    "directory.password_elsewhere": (
        "Your password is kept in the company directory: change it there, not here."
    ),
    "directory.password_not_here": (
        "This user's password is kept in the company directory; it cannot be set here."
    ),
    "directory.title": "Directory",
    "directory.intro": (
        "Users, groups and passwords from the company directory (LDAP or Active Directory)."
        " Directory users sign in with their directory password; local accounts keep their"
        " own, so a local administrator can sign in while the directory is down."
    ),
    "directory.fixed": "Set on the server (FLASK_LDAP_*); it cannot be changed here.",
    "directory.field.urls": "Server addresses (ldap:// or ldaps://, tried in order)",
    "directory.field.start_tls": "StartTLS on ldap:// addresses",
    "directory.field.ca_file": "CA certificate file on the server (empty: the system's)",
    "directory.field.bind_dn": "Service account DN",
    "directory.field.bind_password": "Service account password",
    "directory.field.user_base": "User base DN",
    "directory.field.user_filter": "User filter",
    "directory.field.login_attribute": "Login attribute",
    "directory.field.email_attribute": "E-mail attribute",
    "directory.field.first_name_attribute": "First name attribute",
    "directory.field.last_name_attribute": "Last name attribute",
    "directory.field.group_base": "Group base DN",
    "directory.field.group_map": "Group mapping (JSON: directory group DN to console group id)",
    "directory.password_kept": "Leave empty to keep the stored password.",
    "directory.password_stored": "A password is stored (encrypted).",
    "directory.url_invalid": "Not an ldap:// or ldaps:// address: {url}",
    "directory.ca_file_missing": "There is no such file on the server.",
    "directory.login_attribute_invalid": "Choose uid, sAMAccountName or userPrincipalName.",
    "directory.attribute_invalid": "Not an attribute name.",
    "directory.filter_invalid": "Not an LDAP filter: the parentheses do not match.",
    "directory.group_map_invalid": (
        "Expected a JSON object with group DNs as keys and console group ids as values."
    ),
    "directory.group_map_unknown_group": "The mapping names a console group that does not exist.",
    "directory.not_configured": "No directory is configured.",
    "directory.saved": "The directory settings have been saved.",
    "directory.unchanged": "Nothing was changed.",
    "directory.test": "Test the connection",
    "directory.test_found": Plural(
        "Connected. The user filter matches {count} user.",
        "Connected. The user filter matches {count} users.",
    ),
    "directory.test_sample": "For example: {logins}",
    "directory.test_failed": "The directory answered: {error}",
    "directory.sync": "Synchronise now",
    "directory.sync_hint": (
        "Creates and updates directory users, blocks those removed or disabled in the"
        " directory and sets the mapped group membership. Also: flask --app app directory sync"
    ),
    "directory.synced": (
        "Synchronised: created {created}, updated {updated}, blocked {blocked},"
        " unchanged {unchanged}, errors {errors}."
    ),
    "directory.sync_failed": "The directory cannot be read: {error}",
    "directory.last_sync": "Last synchronisation: {when}",
    "directory.never_synced": "Not synchronised yet.",
    "directory.source_directory": "From the company directory",
    "event.directory_settings_changed": "Directory settings changed",
    "event.directory_tested": "Directory connection tested",
    "event.directory_synced": "Directory synchronised",
    "event.directory_unavailable": "Directory unreachable",
    "event.detail.created": "Created",
    "event.detail.updated": "Updated",
    "event.detail.blocked": "Blocked",
    "event.detail.unchanged": "Unchanged",
    "event.detail.errors": "Errors",
    "event.detail.first_error": "First error",
    "event.detail.error": "Error",
    # Passwords as NIST SP 800-63B asks (normalised, not common, really changed)
    "password.too_long": Plural(
        "A password can have at most {max} character.",
        "A password can have at most {max} characters.",
        "max",
    ),
    "password.common": (
        "This password is on the list of common and breached passwords, so it would be"
        " guessed early. Choose another one: a few unrelated words make a good password."
    ),
    "password.made_of_login": (
        "This password is made of the login and is easy to guess. Choose one that does not"
        " contain it."
    ),
    "password.made_of_email": (
        "This password is made of the e-mail address and is easy to guess. Choose one that"
        " does not contain it."
    ),
    "password.made_of_console_name": (
        "This password is made of the console's name and is easy to guess. Choose one that"
        " does not contain it."
    ),
    "password.same_as_current": (
        "The new password is the same as the current one. Choose a different password."
    ),
    "password.rules_hint": (
        "At most 256 characters. Not a common password, nor one made of the login or e-mail;"
        " any characters, spaces included."
    ),
    "password.strength": "Password strength",
    "password.strength.too_short": "Too short",
    "password.strength.too_long": "Too long",
    "password.strength.contains_name": "Made of the login or e-mail",
    "password.strength.weak": "Weak",
    "password.strength.fair": "Fair",
    "password.strength.good": "Good",
    "password.strength.strong": "Strong",
    "password.strength_note": (
        "An estimate made in your browser; the console checks the password when it is saved."
    ),
    # --- Metrics for Prometheus (GET /metrics) ---
    "metrics.token_needed": "The metrics need the metrics token (Authorization: Bearer).",
    "metrics.local_only": (
        "Without a metrics token the metrics can only be read from the server itself."
    ),
}


def _english() -> Translations:
    return gettext.NullTranslations()


_current_translations: Callable[[], Translations] = _english


def use_translations(source: Callable[[], Translations]) -> None:
    """Make `message` read its sentences from `source()`: the reader's language."""
    global _current_translations
    _current_translations = source


def translated(key: str, values: dict[str, object] | None = None) -> str:
    """Return the sentence for `key` in the reader's language, its `{names}` not yet filled.

    A plural entry takes its form from its number among `values`.
    """
    entry = MESSAGES[key]
    translations = _current_translations()
    if isinstance(entry, Plural):
        number = _count_of((values or {})[entry.number])
        return translations.npgettext(key, entry.one, entry.other, number)
    return translations.pgettext(key, entry)


_TAG = re.compile(r"<[^>]*>")


def _count_of(value: object) -> int:
    """The number a plural form agrees with: an int, or the digits of one drawn for the page
    (`<strong>4</strong>`, `1 234` as the reader's language groups it)."""
    if isinstance(value, int):
        return value
    digits = "".join(char for char in _TAG.sub("", str(value)) if char.isdigit())
    return int(digits) if digits else 0


def message(key: str, **values: object) -> str:
    """Return the catalog text for `key` in the reader's language, filled with `values`."""
    text = translated(key, values)
    return text.format(**values) if values else text


class Refusal(ValueError):
    """A domain rule said no; `key` is the catalog key, `field` the form field it belongs to.

    `status` is the HTTP status that answers it, set where the rule is: 400 for bad input
    (the default), 403 for what the person may not do whatever the input, 409 for a state
    that does not allow it (no device, already connected).
    """

    status: int = 400

    def __init__(
        self, key: str, field: str | None = None, *, status: int | None = None, **values: object
    ) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.values = values
        if status is not None:
            self.status = status

    @property
    def text(self) -> str:
        """The sentence to show the person."""
        return message(self.key, **self.values)
