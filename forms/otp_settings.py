"""Settings → Proactive protection → Two-step authentication: the Parameters tab."""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange

from forms.admin import MultiCheckboxField
from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters
from security.otp_settings import ISSUER_MAX, RANGES, Parameters
from web.i18n import lazy_message, shown_choices


def _whole_number(name: str, label: str) -> IntegerField:
    low, high = RANGES[name]
    return IntegerField(
        label,
        validators=[
            InputRequired(lazy_message("form.required")),
            NumberRange(
                min=low, max=high, message=lazy_message("form.whole_number", low=low, high=high)
            ),
        ],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


class OtpParametersForm(ConsoleForm):
    """Every field of the Parameters tab; labels come from the form layout."""

    default_type = SelectField(
        lazy_message("form.field.default_type"),
        choices=shown_choices(
            {
                "totp": lazy_message("form.choice.totp_rfc"),
                "hotp": lazy_message("form.choice.hotp_rfc"),
            }
        ),
    )
    totp_window = _whole_number("totp_window", lazy_message("form.field.totp_window"))
    hotp_window = _whole_number("hotp_window", lazy_message("form.field.hotp_window"))
    allow_remember = BooleanField(lazy_message("form.field.allow_remember"))
    remember_days = _whole_number("remember_days", lazy_message("form.field.remember_days"))
    allow_recovery_codes = BooleanField(lazy_message("form.field.allow_recovery_codes"))
    mandatory = BooleanField(lazy_message("form.field.mandatory"))
    mandatory_days = _whole_number("mandatory_days", lazy_message("form.field.mandatory_days"))
    # Unknown ids are the domain's to refuse, with its own message next to the field.
    mandatory_groups = MultiCheckboxField(
        lazy_message("form.field.mandatory_groups"), coerce=int, validate_choice=False
    )
    max_attempts = _whole_number("max_attempts", lazy_message("form.field.max_attempts"))
    lockout_minutes = _whole_number("lockout_minutes", lazy_message("form.field.lockout_minutes"))
    log_requests = BooleanField(lazy_message("form.field.log_requests"))
    issuer = StringField(
        lazy_message("form.field.issuer"),
        validators=[
            InputRequired(lazy_message("form.required")),
            MaxLength(ISSUER_MAX),
            NoControlCharacters(),
        ],
    )

    def fill(self, parameters: Parameters) -> None:
        """Put stored values into the fields (a GET, or the fields a layout hides)."""
        for name in parameters.__dataclass_fields__:
            self[name].data = getattr(parameters, name)
        self.mandatory_groups.data = list(parameters.mandatory_groups)

    def keep(self, parameters: Parameters, names: tuple[str, ...]) -> None:
        """Give these fields (hidden by the layout) their stored values."""
        for name in names:
            if name in self:
                value = getattr(parameters, name)
                self[name].data = list(value) if name == "mandatory_groups" else value

    def parameters(self) -> Parameters:
        """Return the submitted values (call after validate())."""
        return Parameters(
            default_type=self.default_type.data or "",
            totp_window=int(self.totp_window.data or 0),
            hotp_window=int(self.hotp_window.data or 0),
            allow_remember=bool(self.allow_remember.data),
            remember_days=int(self.remember_days.data or 0),
            allow_recovery_codes=bool(self.allow_recovery_codes.data),
            mandatory=bool(self.mandatory.data),
            mandatory_days=int(self.mandatory_days.data or 0),
            mandatory_groups=tuple(sorted(set(self.mandatory_groups.data or []))),
            max_attempts=int(self.max_attempts.data or 0),
            lockout_minutes=int(self.lockout_minutes.data or 0),
            log_requests=bool(self.log_requests.data),
            issuer=self.issuer.data or "",
        )
