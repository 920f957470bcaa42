"""Administration forms."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import EqualTo, InputRequired, NumberRange, Optional

from forms.base import ConsoleForm
from forms.query import MAX_PAGE
from forms.validators import MaxLength, NoControlCharacters
from models.user import EMAIL_MAX, LOGIN_MAX, NAME_MAX
from security.messages import message
from security.passwords import MAX_PASSWORD_LENGTH


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(ConsoleForm):
    """The user profile form: its fields are spread over tabs by the form layout."""

    login = StringField(
        "Login",
        validators=[
            InputRequired(message("form.required")),
            MaxLength(LOGIN_MAX),
            NoControlCharacters(),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    email = StringField(
        "E-mail",
        validators=[Optional(), MaxLength(EMAIL_MAX), NoControlCharacters()],
        render_kw={"type": "email", "autocomplete": "off"},
    )
    active = BooleanField("Active (may sign in)", default=True)
    password = PasswordField(
        "New password",
        validators=[MaxLength(MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        "Repeat the password",
        validators=[EqualTo("password", message("user.passwords_differ"))],
        render_kw={"autocomplete": "new-password"},
    )
    name = StringField(
        "First name", validators=[Optional(), MaxLength(NAME_MAX), NoControlCharacters()]
    )
    last_name = StringField(
        "Last name", validators=[Optional(), MaxLength(NAME_MAX), NoControlCharacters()]
    )
    groups = MultiCheckboxField("Groups", coerce=int, validate_choice=True)


class UserFilterForm(ConsoleForm):
    """The search and filters of the user list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), MaxLength(100), NoControlCharacters()])
    # Only the groups offered: the view reads the choice as a group id.
    group = SelectField("Group", coerce=str, default="")
    otp = SelectField(
        "Two-step",
        coerce=str,
        default="",
        choices={
            "": "Any state",
            "active": "Enabled",
            "disabled": "Disabled",
            "pending": "Required, in the grace period",
            "overdue": "Required, overdue",
            "locked": "Locked",
            "not_configured": "Not configured",
            "unprotected": "No active device (any reason)",
        },
    )
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
    per_page = IntegerField(validators=[Optional(), NumberRange(min=1, max=200)])


class EventFilterForm(ConsoleForm):
    """The filters of the event log (GET, no CSRF)."""

    class Meta:
        csrf = False

    # Only the types offered: anything else (NUL among it) never reaches the query.
    type = SelectField("Type", coerce=str, default="")
    user = StringField("User", validators=[Optional(), MaxLength(100), NoControlCharacters()])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
