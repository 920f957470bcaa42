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
from forms.mypage import NEW_PASSWORD_ATTRIBUTES, PASSWORD_MAX, PreferencesForm
from forms.query import MAX_PAGE
from forms.validators import MaxLength, NoControlCharacters
from models.user import EMAIL_MAX, LOGIN_MAX, NAME_MAX
from web.i18n import lazy_message, shown_choices


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(PreferencesForm):
    """The user profile form: its fields are spread over tabs by the form layout."""

    login = StringField(
        lazy_message("form.field.login"),
        validators=[
            InputRequired(lazy_message("form.required")),
            MaxLength(LOGIN_MAX),
            NoControlCharacters(),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    email = StringField(
        lazy_message("form.field.email"),
        validators=[Optional(), MaxLength(EMAIL_MAX), NoControlCharacters()],
        render_kw={"type": "email", "autocomplete": "off"},
    )
    active = BooleanField(lazy_message("form.field.active"), default=True)
    password = PasswordField(
        lazy_message("form.field.new_password"),
        validators=[PASSWORD_MAX],
        render_kw=NEW_PASSWORD_ATTRIBUTES,
    )
    password_confirm = PasswordField(
        lazy_message("form.field.password_confirm"),
        validators=[EqualTo("password", lazy_message("user.passwords_differ"))],
        render_kw={"autocomplete": "new-password"},
    )
    name = StringField(
        lazy_message("form.field.first_name"),
        validators=[Optional(), MaxLength(NAME_MAX), NoControlCharacters()],
    )
    last_name = StringField(
        lazy_message("form.field.last_name"),
        validators=[Optional(), MaxLength(NAME_MAX), NoControlCharacters()],
    )
    groups = MultiCheckboxField(lazy_message("form.field.groups"), coerce=int, validate_choice=True)


class UserFilterForm(ConsoleForm):
    """The search and filters of the user list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(
        lazy_message("form.field.search"),
        validators=[Optional(), MaxLength(100), NoControlCharacters()],
    )
    # Only the groups offered: the view reads the choice as a group id.
    group = SelectField(lazy_message("form.field.group"), coerce=str, default="")
    otp = SelectField(
        lazy_message("form.field.two_step"),
        coerce=str,
        default="",
        choices=shown_choices(
            {
                "": lazy_message("status.any"),
                "active": lazy_message("status.active"),
                "disabled": lazy_message("status.disabled"),
                "pending": lazy_message("status.pending.choice"),
                "overdue": lazy_message("status.overdue.choice"),
                "locked": lazy_message("status.locked"),
                "not_configured": lazy_message("status.not_configured"),
                "unprotected": lazy_message("status.unprotected.choice"),
            }
        ),
    )
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
    per_page = IntegerField(validators=[Optional(), NumberRange(min=1, max=200)])


class EventFilterForm(ConsoleForm):
    """The filters of the event log (GET, no CSRF)."""

    class Meta:
        csrf = False

    # Only the types offered: anything else (NUL among it) never reaches the query.
    type = SelectField(lazy_message("form.field.event_type"), coerce=str, default="")
    user = StringField(
        lazy_message("form.field.user"),
        validators=[Optional(), MaxLength(100), NoControlCharacters()],
    )
    since = DateField(lazy_message("form.field.since"), validators=[Optional()])
    until = DateField(lazy_message("form.field.until"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
