"""My page forms."""

from __future__ import annotations

from wtforms import Field, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Optional

from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters, PasswordLength
from security.messages import message
from security.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from security.preferences import TIMEZONE_MAX, Preferences
from web.i18n import lazy_message

# A password field's limit, said as the password rules say it (the domain checks it too).
PASSWORD_MAX = PasswordLength(MAX_PASSWORD_LENGTH, "password.too_long")
# A new password's field: the strength meter (static/password_meter.js) attaches to it.
NEW_PASSWORD_ATTRIBUTES = {
    "autocomplete": "new-password",
    "data-strength-meter": "",
    "data-min-length": MIN_PASSWORD_LENGTH,
    "data-max-length": MAX_PASSWORD_LENGTH,
}


class PasswordChangeForm(ConsoleForm):
    current_password = PasswordField(
        lazy_message("form.field.current_password"),
        validators=[InputRequired(lazy_message("form.required")), PASSWORD_MAX],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        lazy_message("form.field.new_password"),
        validators=[InputRequired(lazy_message("form.required")), PASSWORD_MAX],
        render_kw=NEW_PASSWORD_ATTRIBUTES,
    )
    new_password_confirm = PasswordField(
        lazy_message("form.field.new_password_confirm"),
        validators=[
            InputRequired(lazy_message("form.required")),
            EqualTo("new_password", lazy_message("user.passwords_differ")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ReauthForm(ConsoleForm):
    password = PasswordField(
        lazy_message("form.field.password"),
        validators=[InputRequired(lazy_message("form.required")), PASSWORD_MAX],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    next = HiddenField()


def _language_choices() -> dict[str, str]:
    # Each language by its own name, so that a reader lost in the other one finds theirs.
    return {
        "": message("preferences.language_of_browser"),
        "en": message("language.en"),
        "ru": message("language.ru"),
    }


class PreferencesForm(ConsoleForm):
    """A person's language and time zone (My page, and the profile's Personal data tab).

    The values are checked by security.preferences, which says what is wrong with them;
    the choice list is not enforced here, so that its message is the one shown.
    """

    language = SelectField(
        lazy_message("form.field.language"),
        choices=_language_choices,
        validate_choice=False,
        default="",
    )
    timezone = StringField(
        lazy_message("form.field.timezone"),
        validators=[Optional(), MaxLength(TIMEZONE_MAX), NoControlCharacters()],
        render_kw={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"},
    )

    def chosen_preferences(self, stored: Preferences) -> Preferences:
        """What was asked for; a field the request did not carry keeps its stored value.

        A form sent by a script that predates these fields must not reset a person's
        language and zone (a browser always sends both: empty means "not chosen").
        """

        def asked(field: Field, kept: str) -> str:
            return (field.data or "").strip() if field.raw_data else kept

        return Preferences(
            asked(self.language, stored.language), asked(self.timezone, stored.timezone)
        )
