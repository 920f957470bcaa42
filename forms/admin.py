"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
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

from forms.validators import MaxLength, NoControlCharacters
from models.user import EMAIL_MAX, LOGIN_MAX, NAME_MAX
from security.messages import message
from security.passwords import MAX_PASSWORD_LENGTH


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(FlaskForm):
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


class UserFilterForm(FlaskForm):
    """The search and filters of the user list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), MaxLength(100), NoControlCharacters()])
    group = SelectField("Group", coerce=str, validate_choice=False)
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
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100000)])
    per_page = IntegerField(validators=[Optional(), NumberRange(min=1, max=200)])


class EventFilterForm(FlaskForm):
    """The filters of the event log (GET, no CSRF)."""

    class Meta:
        csrf = False

    type = SelectField("Type", coerce=str, validate_choice=False)
    user = StringField("User", validators=[Optional(), MaxLength(100), NoControlCharacters()])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100000)])
