"""The base of every form of the console."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict


class ConsoleForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    """A form whose fields only ever receive text.

    No form of the console takes an upload, yet Flask-WTF hands file parts of a multipart
    body (and the values of a JSON body) to the fields: a `login` sent as a file would
    reach the domain as an object and fail there. Here anything that is not text is
    left out, so the field is simply absent and its validators say so.
    """

    class Meta(FlaskForm.Meta):  # type: ignore[misc]
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            data = super().wrap_formdata(form, formdata)
            if data is None or not hasattr(data, "items"):
                return data
            pairs = list(data.items(multi=True))
            if all(isinstance(value, str) for _, value in pairs):
                return data
            return ImmutableMultiDict([(name, v) for name, v in pairs if isinstance(v, str)])
