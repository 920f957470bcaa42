"""Validators shared by every form."""

from __future__ import annotations

from typing import Any

from wtforms import Field
from wtforms.validators import ValidationError

from security.messages import message
from security.passwords import normalize_password
from security.untrusted_text import has_control_characters


class NoControlCharacters:
    """Refuse text with control characters, which could forge log lines or hide content."""

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise ValidationError(message("form.control_characters"))


class PasswordLength:
    """Refuse a password longer than `limit` both as typed and normalised (NFKC, the form
    it is hashed in): a keyboard that sends accents apart (NFD) makes a password of the
    longest length longer as typed than as stored."""

    def __init__(self, limit: int, key: str = "form.too_long") -> None:
        self.limit = limit
        self.key = key

    def __call__(self, form: Any, field: Field) -> None:
        data = field.data
        if (
            isinstance(data, str)
            and len(data) > self.limit
            and len(normalize_password(data)) > self.limit
        ):
            raise ValidationError(message(self.key, max=self.limit))


class MaxLength:
    """Refuse text longer than `limit`, with the catalog's message."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and len(field.data) > self.limit:
            raise ValidationError(message("form.too_long", max=self.limit))
