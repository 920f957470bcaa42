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
        message("form.field.login"),
        validators=[
            InputRequired(message("form.required")),
            MaxLength(LOGIN_MAX),
            NoControlCharacters(),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    email = StringField(
        message("form.field.email"),
        validators=[Optional(), MaxLength(EMAIL_MAX), NoControlCharacters()],
        render_kw={"type": "email", "autocomplete": "off"},
    )
    active = BooleanField(message("form.field.active"), default=True)
    password = PasswordField(
        message("form.field.new_password"),
        validators=[MaxLength(MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        message("form.field.password_confirm"),
        validators=[EqualTo("password", message("user.passwords_differ"))],
        render_kw={"autocomplete": "new-password"},
    )
    name = StringField(
        message("form.field.first_name"),
        validators=[Optional(), MaxLength(NAME_MAX), NoControlCharacters()],
    )
    last_name = StringField(
        message("form.field.last_name"),
        validators=[Optional(), MaxLength(NAME_MAX), NoControlCharacters()],
    )
    groups = MultiCheckboxField(message("form.field.groups"), coerce=int, validate_choice=True)


class UserFilterForm(ConsoleForm):
    """The search and filters of the user list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(
        message("form.field.search"), validators=[Optional(), MaxLength(100), NoControlCharacters()]
    )
    # Only the groups offered: the view reads the choice as a group id.
    group = SelectField(message("form.field.group"), coerce=str, default="")
    otp = SelectField(
        message("form.field.two_step"),
        coerce=str,
        default="",
        choices={
            "": message("status.any"),
            "active": message("status.active"),
            "disabled": message("status.disabled"),
            "pending": message("status.pending.choice"),
            "overdue": message("status.overdue.choice"),
            "locked": message("status.locked"),
            "not_configured": message("status.not_configured"),
            "unprotected": message("status.unprotected.choice"),
        },
    )
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
    per_page = IntegerField(validators=[Optional(), NumberRange(min=1, max=200)])


class EventFilterForm(ConsoleForm):
    """The filters of the event log (GET, no CSRF)."""

    class Meta:
        csrf = False

    # Only the types offered: anything else (NUL among it) never reaches the query.
    type = SelectField(message("form.field.event_type"), coerce=str, default="")
    user = StringField(
        message("form.field.user"), validators=[Optional(), MaxLength(100), NoControlCharacters()]
    )
    since = DateField(message("form.field.since"), validators=[Optional()])
    until = DateField(message("form.field.until"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
