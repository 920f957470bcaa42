"""Helpers that keep untrusted text from forging log lines or hiding characters."""

from __future__ import annotations

import unicodedata

_REPLACEMENT = "\ufffd"


def has_control_characters(value: str) -> bool:
    """Tell whether the text holds control, format or separator characters other than space."""
    return any(
        unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for char in value
    )


def neutralize(value: str, limit: int = 200) -> str:
    """Replace control characters and cut overlong text, for logs and events."""
    cleaned = "".join(
        _REPLACEMENT if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} else char
        for char in value
    )
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\u2026"
