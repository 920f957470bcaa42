"""Forms of the hardware token inventory: the list's filters, the import, taking a token back,
and assigning one on a user's two-step tab."""

from __future__ import annotations

from wtforms import FileField, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from forms.base import ConsoleForm
from forms.two_step import code_field
from forms.validators import MaxLength, NoControlCharacters
from security.token_inventory import RETURN_STATES
from web.i18n import lazy_message, shown_choices

STATE_LABELS = {
    "unassigned": lazy_message("tokens.state.unassigned"),
    "assigned": lazy_message("tokens.state.assigned"),
    "lost": lazy_message("tokens.state.lost"),
    "retired": lazy_message("tokens.state.retired"),
}


class TokenFilterForm(ConsoleForm):
    """The list's state filter and serial search (GET, no CSRF)."""

    class Meta:
        csrf = False

    state = SelectField(
        lazy_message("tokens.field.state"),
        coerce=str,
        default="",
        choices=shown_choices({"": lazy_message("tokens.all_states"), **STATE_LABELS}),
    )
    serial = StringField(
        lazy_message("tokens.field.serial_search"),
        validators=[Optional(), MaxLength(64), NoControlCharacters()],
    )


class TokenImportForm(ConsoleForm):
    """A vendor's file, with the password or the pre-shared key that opens it, if any.

    The file itself is read by the view from the upload (forms take text only)."""

    file = FileField(lazy_message("tokens.field.file"))
    password = StringField(
        lazy_message("tokens.field.password"),
        validators=[Optional(), MaxLength(200), NoControlCharacters()],
        render_kw={"autocomplete": "off", "type": "password"},
    )
    key = StringField(
        lazy_message("tokens.field.key"),
        validators=[Optional(), MaxLength(200), NoControlCharacters()],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class TokenReturnForm(ConsoleForm):
    """Take a token back: to the shelf, lost or retired."""

    to = SelectField(
        lazy_message("tokens.field.to"),
        coerce=str,
        validators=[InputRequired(lazy_message("form.required"))],
        choices=shown_choices({state: STATE_LABELS[state] for state in RETURN_STATES}),
    )


class InventoryConnectForm(ConsoleForm):
    """Assign a token of the inventory: its serial and the codes it shows."""

    serial = StringField(
        lazy_message("tokens.field.serial"),
        validators=[
            InputRequired(lazy_message("form.required")),
            MaxLength(64),
            NoControlCharacters(),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autofocus": True},
    )
    code = code_field("admin.first_password")
    code2 = code_field("admin.second_password", required=False)
