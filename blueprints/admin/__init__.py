"""Administration: the Proactive protection module, users and the event log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., object])


def requires_right(right: str) -> Callable[[ViewFunc], ViewFunc]:
    """Mark a view as open to holders of `right` (by default admin views need "admin")."""

    def mark(view: ViewFunc) -> ViewFunc:
        view.required_right = right  # type: ignore[attr-defined]
        return view

    return mark


@bp.before_request
def check_rights() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    right = getattr(view, "required_right", "admin")
    allowed = current_user.is_admin if right == "admin" else current_user.can_manage_otp
    if not allowed:
        abort(403)


from blueprints.admin import (  # noqa: E402,F401  (register routes)
    api_clients,
    bulk,
    directory,
    events,
    form_settings,
    notifications,
    otp_settings,
    overview,
    reports,
    tokens,
    user_otp,
    users,
)
