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
        message("otp.code_from_app"),
        validators=[InputRequired(message("form.required")), MaxLength(20), NoControlCharacters()],
        render_kw={**CODE_ATTRIBUTES, "autofocus": True},
    )
    code2 = StringField(
        message("otp.second_code"),
        validators=[Optional(), MaxLength(20), NoControlCharacters()],
        render_kw=CODE_ATTRIBUTES,
    )


class AdminConnectForm(ConnectForm):
    """Every connection option of the admin tab: app or hardware token, TOTP or HOTP."""

    source = SelectField(
        message("form.field.device"),
        choices={
            "mobile": message("otp.source_mobile"),
            "hardware": message("otp.source_hardware"),
        },
        default="mobile",
    )
    type = SelectField(
        message("form.field.algorithm"),
        choices={"totp": message("form.choice.totp"), "hotp": message("form.choice.hotp")},
        default="totp",
    )
    secret = StringField(
        message("form.field.secret"),
        validators=[Optional(), MaxLength(200), NoControlCharacters()],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    digits = SelectField(message("form.field.digits"), choices={"6": "6", "8": "8"}, default="6")
    period = SelectField(
        message("form.field.period"),
        choices={
            "30": message("form.choice.seconds", count=30),
            "60": message("form.choice.seconds", count=60),
        },
        default="30",
    )
    start_time = IntegerField(
        message("form.field.start_time"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=4_000_000_000)],
    )
    algorithm = SelectField(
        "HMAC",  # the algorithm family's name, the same in every language
        choices={
            "auto": message("form.choice.automatic"),
            "SHA1": "SHA-1",
            "SHA256": "SHA-256",
            "SHA512": "SHA-512",
        },
        default="auto",
    )


class SyncForm(ConsoleForm):
    code = StringField(
        message("otp.first_code"),
        validators=[InputRequired(message("form.required")), MaxLength(20), NoControlCharacters()],
        render_kw=CODE_ATTRIBUTES,
    )
    code2 = StringField(
        message("otp.second_code"),
        validators=[InputRequired(message("form.required")), MaxLength(20), NoControlCharacters()],
        render_kw=CODE_ATTRIBUTES,
    )


class DaysForm(ConsoleForm):
    days = IntegerField(
        message("form.field.days"),
        validators=[
            InputRequired(message("form.required")),
            NumberRange(min=0, max=365, message=message("form.days_number")),
        ],
    )


class ExemptForm(ConsoleForm):
    until = DateField(message("form.field.exempt_until"), validators=[Optional()])
