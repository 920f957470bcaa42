"""Settings → Directory: where the company directory is and how its people are read."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField

from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters
from integrations.ldap import LOGIN_ATTRIBUTES
from web.i18n import lazy_message


def _text(key: str, limit: int = 1024) -> StringField:
    return StringField(lazy_message(key), validators=[MaxLength(limit), NoControlCharacters()])


class DirectorySettingsForm(ConsoleForm):
    """The FLASK_LDAP_* settings; the view disables those the server fixes."""

    urls = _text("directory.field.urls", 2000)
    start_tls = BooleanField(lazy_message("directory.field.start_tls"))
    ca_file = _text("directory.field.ca_file")
    bind_dn = _text("directory.field.bind_dn")
    bind_password = PasswordField(
        lazy_message("directory.field.bind_password"),
        validators=[MaxLength(256), NoControlCharacters()],
    )
    user_base = _text("directory.field.user_base")
    user_filter = _text("directory.field.user_filter", 2000)
    login_attribute = SelectField(
        lazy_message("directory.field.login_attribute"),
        choices={name: name for name in LOGIN_ATTRIBUTES},
    )
    email_attribute = _text("directory.field.email_attribute", 64)
    first_name_attribute = _text("directory.field.first_name_attribute", 64)
    last_name_attribute = _text("directory.field.last_name_attribute", 64)
    group_base = _text("directory.field.group_base")
    group_map = TextAreaField(
        lazy_message("directory.field.group_map"), validators=[MaxLength(20_000)]
    )
