"""CSV cells that a spreadsheet program would run as formulas are quoted."""

from __future__ import annotations

from typing import Any

import pytest

from security.untrusted_text import spreadsheet_safe

FORMULAS = [
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "   +cmd|' /C calc'!A0",
    "\u00a0=cmd|' /C calc'!A0",  # no-break space
    "\u3000=1+1",  # ideographic space
    "\u200b=1+1",  # zero-width space
    " \u00a0\t-1+1",
    "\uff1d1+1",  # full-width =
    "\uff0b1+1",  # full-width +
    "\uff0d1+1",  # full-width -
    "\uff20SUM(A1)",  # full-width @
    ' \uff1dHYPERLINK("http://evil.example")',
    "\ufe661+1",  # small =
]

PLAIN = [
    "",
    " ",
    "admin",
    "employee 1",
    "2024-05-03T12:00:00Z",
    "method=password; groups=Administrators",  # "=" inside is fine
    "192.0.2.1",
    "a =1+1",
    "\u00a0admin",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_is_quoted_and_kept(value: str) -> None:
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", PLAIN)
def test_plain_text_is_left_alone(value: str) -> None:
    assert spreadsheet_safe(value) == value


def test_the_export_quotes_formulas_behind_spaces_and_in_full_width(
    app: Any, admin_client: Any
) -> None:
    import csv
    import io

    from extensions import db
    from models import utcnow
    from security import events

    hidden = [" =1+1", "\u00a0=cmd|' /C calc'!A0", "\uff1d1+1", "\uff20SUM(A1)"]
    for login in hidden:
        events.record(
            events.SIGN_IN_FAILED,
            now=utcnow(),
            ip="192.0.2.1",
            subject_login=login,
            outcome=events.FAILURE,
        )
    db.session.commit()
    response = admin_client.get("/admin/events.csv?type=sign_in_failed")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    subjects = sorted(row[4] for row in rows[1:])
    assert subjects == sorted("'" + login for login in hidden)
