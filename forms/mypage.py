"""My page forms."""

from __future__ import annotations

from wtforms import HiddenField, PasswordField
from wtforms.validators import EqualTo, InputRequired

from forms.base import ConsoleForm
from forms.validators import MaxLength
from security.messages import message
from security.passwords import MAX_PASSWORD_LENGTH


class PasswordChangeForm(ConsoleForm):
    current_password = PasswordField(
        message("form.field.current_password"),
        validators=[InputRequired(message("form.required")), MaxLength(MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        message("form.field.new_password"),
        validators=[InputRequired(message("form.required")), MaxLength(MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    new_password_confirm = PasswordField(
        message("form.field.new_password_confirm"),
        validators=[
            InputRequired(message("form.required")),
            EqualTo("new_password", message("user.passwords_differ")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ReauthForm(ConsoleForm):
    password = PasswordField(
        message("form.field.password"),
        validators=[InputRequired(message("form.required")), MaxLength(MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    next = HiddenField()
