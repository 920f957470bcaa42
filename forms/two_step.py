"""Forms for connecting and managing a two-step device (My page and the admin tab)."""

from __future__ import annotations

from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters
from security.messages import message

CODE_ATTRIBUTES = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "autocapitalize": "none",
    "spellcheck": "false",
}


class ConnectForm(ConsoleForm):
    """Connect an app with the default algorithm: one code (TOTP) or two (HOTP)."""

    connection = HiddenField()
    code = StringField(
        "Code from the app",
        validators=[InputRequired(message("form.required")), MaxLength(20), NoControlCharacters()],
        render_kw={**CODE_ATTRIBUTES, "autofocus": True},
    )
    code2 = StringField(
        "Second code",
        validators=[Optional(), MaxLength(20), NoControlCharacters()],
        render_kw=CODE_ATTRIBUTES,
    )


class AdminConnectForm(ConnectForm):
    """Every connection option of the admin tab: app or hardware token, TOTP or HOTP."""

    source = SelectField(
        "Device",
        choices={"mobile": "Mobile app", "hardware": "Hardware token"},
        default="mobile",
    )
    type = SelectField(
        "Algorithm",
        choices={"totp": "TOTP: time based", "hotp": "HOTP: counter based"},
        default="totp",
    )
    secret = StringField(
        "Secret key supplied with the token (hex or Base32)",
        validators=[Optional(), MaxLength(200), NoControlCharacters()],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    digits = SelectField("Digits", choices={"6": "6", "8": "8"}, default="6")
    period = SelectField(
        "Time step", choices={"30": "30 seconds", "60": "60 seconds"}, default="30"
    )
    start_time = IntegerField(
        "Start time T0 (Unix time)",
        default=0,
        validators=[Optional(), NumberRange(min=0, max=4_000_000_000)],
    )
    algorithm = SelectField(
        "HMAC",
        choices={
            "auto": "Automatic",
            "SHA1": "SHA-1",
            "SHA256": "SHA-256",
            "SHA512": "SHA-512",
        },
        default="auto",
    )


class SyncForm(ConsoleForm):
    code = StringField(
        "First code",
        validators=[InputRequired(message("form.required")), MaxLength(20), NoControlCharacters()],
        render_kw=CODE_ATTRIBUTES,
    )
    code2 = StringField(
        "Second code",
        validators=[InputRequired(message("form.required")), MaxLength(20), NoControlCharacters()],
        render_kw=CODE_ATTRIBUTES,
    )


class DaysForm(ConsoleForm):
    days = IntegerField(
        "Days",
        validators=[
            InputRequired(message("form.required")),
            NumberRange(min=0, max=365, message="Enter a number of days."),
        ],
    )


class ExemptForm(ConsoleForm):
    until = DateField("Exempt until", validators=[Optional()])
