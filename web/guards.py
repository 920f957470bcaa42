"""Guards that views wear as decorators: two-step switched on, a recent sign-in, "I understand".

Each guard answers for the view when its condition fails; `back(**view_args)` says where
the person is sent, from the view's own arguments (the URL's, or what an earlier guard
put in their place, such as the target user).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import flash, redirect, request
from flask.typing import ResponseReturnValue

from extensions import db
from security.messages import message
from security.otp_settings import load_settings
from web.confirmation import confirmation_missing
from web.signin_session import require_recent_sign_in

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., ResponseReturnValue])
Back = Callable[..., str]


def guard(
    answer: Callable[[dict[str, Any]], ResponseReturnValue | None], *, post_only: bool = False
) -> Callable[[ViewFunc], ViewFunc]:
    """Make a decorator that lets `answer(view_args)` answer first; None lets the view run."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if not post_only or request.method == "POST":
                refusal = answer(kwargs)
                if refusal is not None:
                    return refusal
            return view(*args, **kwargs)

        return cast(ViewFunc, guarded)

    return decorate


def refuse(key: str, back: str, category: str = "error") -> ResponseReturnValue:
    """Change nothing; say why on the way back."""
    db.session.rollback()
    flash(message(key), category)
    return redirect(back, code=303)


def two_step_on(
    back: Back, *, key: str = "otp.off_for_console", post_only: bool = False
) -> Callable[[ViewFunc], ViewFunc]:
    """Offer no two-step action while two-step authentication is off for the whole console."""
    return guard(
        lambda view_args: None if load_settings().enabled else refuse(key, back(**view_args)),
        post_only=post_only,
    )


def recent_sign_in(back: Back, *, post_only: bool = False) -> Callable[[ViewFunc], ViewFunc]:
    """Ask for the password again when the last sign-in is too old for a sensitive action."""
    return guard(lambda view_args: require_recent_sign_in(back(**view_args)), post_only=post_only)


def confirmed(back: Back) -> Callable[[ViewFunc], ViewFunc]:
    """Refuse a destructive form that asked "I understand" and came back without the tick."""
    return guard(
        lambda view_args: (
            refuse("otp.confirm_needed", back(**view_args)) if confirmation_missing() else None
        ),
        post_only=True,
    )
