"""The gear of tabbed admin forms: "Customize form appearance", reset, switch off and on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from blueprints.admin import bp
from extensions import db
from forms.form_settings import LayoutSubmission, parse_layout_form, parse_scope
from models import utcnow
from security.form_layouts.arrangement import LABEL_MAX, LayoutError
from security.form_layouts.builtin import is_known_form, layout_for
from security.form_layouts.entries import TabEntry, apply_action, arrange, entries_from_layout
from security.form_layouts.storage import (
    Scope,
    editable_layout,
    reset_layout,
    resolved_layout,
    save_entries,
    set_personal_enabled,
)
from security.messages import message
from security.redirects import safe_next
from web.errors import render_error
from web.signin_session import client_ip, require_recent_sign_in

# Where the dialog goes back to when it was not opened from the form itself.
FORM_HOMES = {"user_edit": "admin.users", "otp_settings": "admin.otp_settings"}

ViewResult = Response | tuple[str, int]


def known_form(view: Callable[[str], ViewResult]) -> Callable[[str], ViewResult]:
    """Answer 404 for a form that has no layout, before the view runs."""

    @wraps(view)
    def guarded(form_id: str) -> ViewResult:
        if not is_known_form(form_id):
            return render_error(404, message("layout.unknown_form"))
        return view(form_id)

    return guarded


def _default_needs_recent_sign_in(form_id: str, scope: Scope) -> Response | None:
    """Ask for the password again before the default for everyone changes.

    The common default decides what every administrator sees (it can hide the two-step tab
    from all of them); one's own settings change nothing for others and are not asked.
    """
    if scope != "default":
        return None
    back = url_for(
        "admin.form_settings", form_id=form_id, scope="default", return_to=_return_to(form_id)
    )
    return require_recent_sign_in(back)


def _return_to(form_id: str) -> str:
    endpoint = FORM_HOMES.get(form_id, "admin.overview")
    if endpoint not in current_app.view_functions:
        endpoint = "admin.overview"  # a page not built yet
    home = url_for(endpoint)
    return safe_next(request.values.get("return_to"), home)


def _back_to_form(form_id: str) -> Response:
    return redirect(_return_to(form_id), code=303)


def _dialog(
    form_id: str,
    entries: list[TabEntry],
    scope: Scope,
    problems: list[str],
    status: int,
) -> tuple[str, int]:
    return render_template(
        "admin/form_settings.html",
        form_id=form_id,
        title=layout_for(form_id).title,
        builtin_layout=layout_for(form_id),
        entries=entries,
        field_tabs=[tab for tab in entries if tab.holds_fields],
        scope=scope,
        problems=problems,
        return_to=_return_to(form_id),
        current=resolved_layout(form_id, current_user.id),
        label_max=LABEL_MAX,
    ), status


def _refused(
    form_id: str, submission: LayoutSubmission, scope: Scope, problems: list[str]
) -> tuple[str, int]:
    entries = arrange(form_id, submission.entries)
    return _dialog(form_id, entries, scope, [message("layout.not_saved"), *problems], 400)


@bp.route("/form-settings/<form_id>", methods=["GET", "POST"])
@known_form
def form_settings(form_id: str) -> ViewResult:
    if request.method == "GET":
        scope = parse_scope(request.args.get("scope")) or "personal"
        layout = editable_layout(form_id, current_user.id, scope)
        return _dialog(form_id, entries_from_layout(layout), scope, [], 200)
    submission = parse_layout_form(request.form)
    scope = submission.scope or "personal"
    if submission.problems:
        return _refused(form_id, submission, scope, submission.problems)
    action = submission.action
    if action.name != "save":
        entries = apply_action(form_id, submission.entries, action.name, action.numbers)
        return _dialog(form_id, entries, scope, [], 200)
    return _default_needs_recent_sign_in(form_id, scope) or _save(form_id, submission, scope)


def _save(form_id: str, submission: LayoutSubmission, scope: Scope) -> ViewResult:
    try:
        save_entries(
            form_id,
            submission.entries,
            scope=scope,
            actor=current_user,
            now=utcnow(),
            ip=client_ip(),
        )
        db.session.commit()
    except LayoutError as error:
        db.session.rollback()
        return _refused(form_id, submission, scope, error.problems)
    except IntegrityError:
        # Two saves of the same settings at once: the second finds the row taken.
        db.session.rollback()
        return _refused(form_id, submission, scope, [message("layout.save_conflict")])
    flash(message("layout.saved" if scope == "personal" else "layout.saved_default"), "success")
    return _back_to_form(form_id)


@bp.route("/form-settings/<form_id>/reset", methods=["POST"])
@known_form
def form_settings_reset(form_id: str) -> ViewResult:
    scope = parse_scope(request.form.get("scope"))
    if scope is None:
        return render_error(400, message("layout.bad_scope"))
    refusal = _default_needs_recent_sign_in(form_id, scope)
    if refusal is not None:
        return refusal
    try:
        deleted = reset_layout(
            form_id, scope=scope, actor=current_user, now=utcnow(), ip=client_ip()
        )
    except LayoutError as error:
        db.session.rollback()
        return render_error(403, " ".join(error.problems))
    db.session.commit()
    if not deleted:
        flash(message("layout.nothing_to_reset"), "info")
    elif scope == "personal":
        flash(message("layout.reset"), "success")
    else:
        flash(message("layout.default_deleted"), "success")
    return _back_to_form(form_id)


def _switch(form_id: str, enabled: bool) -> ViewResult:
    found = set_personal_enabled(
        form_id, enabled=enabled, actor=current_user, now=utcnow(), ip=client_ip()
    )
    db.session.commit()
    if found:
        flash(message("layout.enabled" if enabled else "layout.disabled"), "success")
    else:
        flash(message("layout.no_personal"), "info")
    return _back_to_form(form_id)


@bp.route("/form-settings/<form_id>/disable", methods=["POST"])
@known_form
def form_settings_disable(form_id: str) -> ViewResult:
    return _switch(form_id, False)


@bp.route("/form-settings/<form_id>/enable", methods=["POST"])
@known_form
def form_settings_enable(form_id: str) -> ViewResult:
    return _switch(form_id, True)
