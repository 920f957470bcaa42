"""Application passwords (My page) and API clients (administration)."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired

from forms.admin import MultiCheckboxField
from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters
from security import api_clients, app_passwords
from web.i18n import lazy_message, shown_choices


class AppPasswordForm(ConsoleForm):
    name = StringField(
        lazy_message("form.field.app_password_name"),
        validators=[
            InputRequired(lazy_message("app_password.name_required")),
            MaxLength(app_passwords.NAME_MAX),
            NoControlCharacters(),
        ],
        render_kw={"autocomplete": "off", "maxlength": app_passwords.NAME_MAX},
    )


class ApiClientForm(ConsoleForm):
    name = StringField(
        lazy_message("form.field.api_client_name"),
        validators=[
            InputRequired(lazy_message("api_client.name_required")),
            MaxLength(api_clients.NAME_MAX),
            NoControlCharacters(),
        ],
        render_kw={"autocomplete": "off", "maxlength": api_clients.NAME_MAX},
    )
    scopes = MultiCheckboxField(
        lazy_message("form.field.api_client_scopes"),
        coerce=str,
        choices=shown_choices(
            {
                api_clients.SCOPE_VALIDATE: lazy_message("api_client.scope.validate"),
                api_clients.SCOPE_USERS_READ: lazy_message("api_client.scope.users_read"),
            }
        ),
    )
    networks = TextAreaField(
        lazy_message("form.field.api_client_networks"),
        validators=[MaxLength(4000)],
        render_kw={"rows": 4, "spellcheck": "false"},
    )
