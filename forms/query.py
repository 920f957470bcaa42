"""Numbers read from a query string, checked before they reach the database.

Forms check what a page submits; these check the odd value a view reads on its own (a
page number beside a tab, an id in a link). A value that cannot be read is absent:
the caller's default stands in for it. Text in a path is checked by the URL converter
(app.py), text in a query by the forms.
"""

from __future__ import annotations

from collections.abc import Mapping

# The largest value of the databases' INTEGER columns (PostgreSQL refuses more).
INT_MAX = 2**31 - 1
# The last page number a list offers to read (the list forms use the same bound).
MAX_PAGE = 100_000


def int_value(text: str | None, *, low: int = 1, high: int = INT_MAX) -> int | None:
    """Read a whole number written in ASCII digits, within [low, high]; None otherwise."""
    if text is None:
        return None
    digits = text[1:] if text[:1] == "-" else text
    # str.isdigit() also says yes to "²" and "٣", which int() refuses or reads.
    if not digits or len(digits) > 10 or not (digits.isascii() and digits.isdigit()):
        return None
    number = int(text)
    return number if low <= number <= high else None


def int_arg(
    args: Mapping[str, str], name: str, default: int, *, low: int = 1, high: int = INT_MAX
) -> int:
    """Read an optional whole-number argument; a missing or unreadable one is `default`."""
    number = int_value(args.get(name), low=low, high=high)
    return default if number is None else number
