"""Sign-in forms."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf.form import SUBMIT_METHODS
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Optional

from forms.base import ConsoleForm
from forms.validators import MaxLength, NoControlCharacters, PasswordLength
from web.i18n import lazy_message


class LoginForm(ConsoleForm):
    class Meta:
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            """Read the form body only, exactly where the per-login rate limit reads the login.

            Flask-WTF would put file parts before the form fields (and read JSON bodies):
            a `login` sent as a file would then not be the login the limiter counted.
            """
            return request.form if request.method in SUBMIT_METHODS else None

    login = StringField(
        lazy_message("form.field.login"),
        validators=[
            InputRequired(lazy_message("form.required")),
            MaxLength(100),
            NoControlCharacters(),
        ],
        render_kw={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"},
    )
    password = PasswordField(
        lazy_message("form.field.password"),
        validators=[InputRequired(lazy_message("form.required")), PasswordLength(256)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(lazy_message("form.field.remember"))
    next = HiddenField()


class SubmitOnlyForm(ConsoleForm):
    """A button-only form: its only field is the CSRF token."""


class SecondStepForm(ConsoleForm):
    code = StringField(
        lazy_message("form.field.second_step_code"),
        validators=[
            InputRequired(lazy_message("form.required")),
            MaxLength(40),
            NoControlCharacters(),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autofocus": True,
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    remember_device = BooleanField(lazy_message("form.field.remember_device"))


class LanguageForm(ConsoleForm):
    """The sign-in page's language switch: one button per language, and where to go back."""

    language = StringField(validators=[Optional(), MaxLength(8)])
    next = HiddenField(validators=[Optional(), MaxLength(2000)])
