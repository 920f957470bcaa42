"""The confirmation of destructive actions that works without JavaScript: "I understand"."""

from __future__ import annotations

from flask import request


def confirmation_missing() -> bool:
    """Tell whether a form that asks "I understand" came back without the tick.

    Scripts that post only the contract's fields carry no `confirm_asked` and are not asked.
    """
    return bool(request.form.get("confirm_asked")) and not request.form.get("confirm")
