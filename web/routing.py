"""The URL converters every route uses: what a path may hold is checked before any view."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from security.untrusted_text import has_control_characters


class DatabaseIntConverter(IntegerConverter):
    """`<int:…>` limited to what an integer column holds: a larger id is a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class PathTextConverter(UnicodeConverter):
    """`<name>`: one segment of at most 200 characters without control characters, or a 404.

    A path value goes on to the database like a query value: PostgreSQL refuses NUL in
    text, and no id, session or form name of the console holds a control character.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maxlength", 200)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> str:
        if has_control_characters(value):
            raise ValidationError()
        return value


def register_converters(app: Flask) -> None:
    """Make `<int:…>` and plain `<name>` the checked converters above."""
    app.url_map.converters["int"] = DatabaseIntConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = PathTextConverter
