"""Validators shared by every form."""

from __future__ import annotations

from typing import Any

from wtforms import Field
from wtforms.validators import ValidationError

from security.messages import message
from security.untrusted_text import has_control_characters


class NoControlCharacters:
    """Refuse text with control characters, which could forge log lines or hide content."""

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise ValidationError(message("form.control_characters"))


class MaxLength:
    """Refuse text longer than `limit`, with the catalog's message (`key`, given `max`)."""

    def __init__(self, limit: int, key: str = "form.too_long") -> None:
        self.limit = limit
        self.key = key

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and len(field.data) > self.limit:
            raise ValidationError(message(self.key, max=self.limit))
