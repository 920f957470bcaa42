"""Settings → Proactive protection → Two-step authentication: the Parameters tab."""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange

from forms.admin import MultiCheckboxField
from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters
from security.messages import message
from security.otp_settings import ISSUER_MAX, RANGES, Parameters


def _whole_number(name: str, label: str) -> IntegerField:
    low, high = RANGES[name]
    return IntegerField(
        label,
        validators=[
            InputRequired(message("form.required")),
            NumberRange(min=low, max=high, message=f"Enter a whole number from {low} to {high}."),
        ],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


class OtpParametersForm(ConsoleForm):
    """Every field of the Parameters tab; labels come from the form layout."""

    default_type = SelectField(
        "Default password generation algorithm",
        choices={
            "totp": "TOTP: time based (RFC 6238)",
            "hotp": "HOTP: counter based (RFC 4226)",
        },
    )
    totp_window = _whole_number("totp_window", "TOTP tolerance (time steps either side)")
    hotp_window = _whole_number("hotp_window", "Password check window size")
    allow_remember = BooleanField("Allow persistent OTPs")
    remember_days = _whole_number("remember_days", "Days a computer is remembered")
    allow_recovery_codes = BooleanField("Allow recovery codes")
    mandatory = BooleanField("Always require two-step authentication")
    mandatory_days = _whole_number("mandatory_days", "Days left to connect")
    # Unknown ids are the domain's to refuse, with its own message next to the field.
    mandatory_groups = MultiCheckboxField(
        "Users who always have to use two-step authentication", coerce=int, validate_choice=False
    )
    max_attempts = _whole_number("max_attempts", "Failed codes before the second step locks")
    lockout_minutes = _whole_number("lockout_minutes", "Lock duration in minutes")
    log_requests = BooleanField("Log requests for OTP password")
    issuer = StringField(
        "Issuer name shown in authenticator apps",
        validators=[
            InputRequired(message("form.required")),
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
