"""Checks and cleaning for untrusted text: log lines, hidden characters, spreadsheet cells.

Whatever a person or a browser sends (names, user agents, addresses) passes through
here before it is stored in an event, written to a log line or exported to CSV.
"""

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


# What makes a spreadsheet program read a cell as a formula, after NFKC (which turns the
# full-width ＝ ＋ － ＠ and the small ﹦ ﹢ ﹣ ﹫ into = + - @).
_FORMULA_STARTS = frozenset("=+-@")


def _is_blank(char: str) -> bool:
    # Spaces of every kind, tabs and line ends, and invisible format characters: a
    # spreadsheet skips them before it looks for "=".
    return char.isspace() or unicodedata.category(char) in {"Cc", "Cf"}


def spreadsheet_safe(value: str) -> str:
    """Quote a CSV cell that a spreadsheet program would run as a formula.

    A cell is a formula when its first visible character is = + - or @, also behind
    spaces, a no-break space, a tab, or in its full-width form (" =1+1", "\\u00a0=cmd",
    "＝1+1"). A leading apostrophe makes it text; the value itself is kept.
    """
    first = next((char for char in value if not _is_blank(char)), "")
    starts_formula = unicodedata.normalize("NFKC", first)[:1] in _FORMULA_STARTS
    if starts_formula or value[:1] in ("\t", "\r"):
        return "'" + value
    return value
