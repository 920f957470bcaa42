"""Forms for connecting and managing a two-step device (My page and the admin tab)."""

from __future__ import annotations

from wtforms import DateField, Field, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters
from security.messages import message
from security.temporary_codes import MAX_HOURS, MIN_HOURS
from web.i18n import lazy_message, shown_choices

CODE_ATTRIBUTES = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "autocapitalize": "none",
    "spellcheck": "false",
}


def code_field(label_key: str, *, required: bool = True, autofocus: bool = False) -> StringField:
    """A one-time code's field: at most 20 characters, no control characters (the domain
    reads the digits)."""
    presence = InputRequired(lazy_message("form.required")) if required else Optional()
    return StringField(
        lazy_message(label_key),
        validators=[presence, MaxLength(20), NoControlCharacters()],
        render_kw={**CODE_ATTRIBUTES, "autofocus": True} if autofocus else CODE_ATTRIBUTES,
    )


class ConnectForm(ConsoleForm):
    """Connect an app with the default algorithm: one code (TOTP) or two (HOTP)."""

    connection = HiddenField()
    code = code_field("otp.code_from_app", autofocus=True)
    code2 = code_field("otp.second_code", required=False)


class AdminConnectForm(ConnectForm):
    """Every connection option of the admin tab: app or hardware token, TOTP or HOTP."""

    source = SelectField(
        lazy_message("form.field.device"),
        choices=shown_choices(
            {
                "mobile": lazy_message("otp.source_mobile"),
                "hardware": lazy_message("otp.source_hardware"),
            }
        ),
        default="mobile",
    )
    type = SelectField(
        lazy_message("form.field.algorithm"),
        choices=shown_choices(
            {
                "totp": lazy_message("form.choice.totp"),
                "hotp": lazy_message("form.choice.hotp"),
            }
        ),
        default="totp",
    )
    secret = StringField(
        lazy_message("form.field.secret"),
        validators=[Optional(), MaxLength(200), NoControlCharacters()],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    digits = SelectField(
        lazy_message("form.field.digits"), choices={"6": "6", "8": "8"}, default="6"
    )
    period = SelectField(
        lazy_message("form.field.period"),
        choices=shown_choices(
            {
                "30": lazy_message("form.choice.seconds", count=30),
                "60": lazy_message("form.choice.seconds", count=60),
            }
        ),
        default="30",
    )
    start_time = IntegerField(
        lazy_message("form.field.start_time"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=4_000_000_000)],
    )
    algorithm = SelectField(
        "HMAC",  # the algorithm family's name, the same in every language
        choices=shown_choices(
            {
                "auto": lazy_message("form.choice.automatic"),
                "SHA1": "SHA-1",
                "SHA256": "SHA-256",
                "SHA512": "SHA-512",
            }
        ),
        default="auto",
    )


class SyncForm(ConsoleForm):
    code = code_field("otp.first_code")
    code2 = code_field("otp.second_code")


class DaysForm(ConsoleForm):
    days = IntegerField(
        lazy_message("form.field.days"),
        validators=[
            InputRequired(lazy_message("form.required")),
            NumberRange(min=0, max=365, message=lazy_message("form.days_number")),
        ],
    )


class ExemptForm(ConsoleForm):
    until = DateField(lazy_message("form.field.exempt_until"), validators=[Optional()])


class WholeHours:
    """Refuse anything but a whole number of hours in the allowed range, with one sentence.

    A plain IntegerField would answer "x" in its own English words, and would parse 10 kB
    of digits before saying no.
    """

    def __call__(self, form: ConsoleForm, field: Field) -> None:
        text = (field.data or "").strip() if isinstance(field.data, str) else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 3):
            raise ValidationError(message("otp.temporary_code_hours", max=MAX_HOURS))
        if not MIN_HOURS <= int(text) <= MAX_HOURS:
            raise ValidationError(message("otp.temporary_code_hours", max=MAX_HOURS))


class TemporaryCodeForm(ConsoleForm):
    """Issue the helpdesk's temporary code: for how many hours."""

    hours = StringField(
        lazy_message("form.field.hours"),
        validators=[InputRequired(lazy_message("form.required")), WholeHours()],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )

    @property
    def hours_value(self) -> int:
        """The hours as a number, once the form is valid."""
        return int((self.hours.data or "0").strip())
