"""Settings → Directory: the connection, a test of it, and "Synchronise now"."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from blueprints.admin import bp
from extensions import db
from forms.auth import SubmitOnlyForm
from forms.directory import DirectorySettingsForm
from integrations.ldap import DirectoryError
from models import utcnow
from security import directory
from security.messages import message
from web.signin_session import client_ip


def _fill(form: DirectorySettingsForm, settings: directory.Settings, *, all_fields: bool) -> None:
    """Show the settings in force; fixed fields always show the server's values."""
    for name in directory.field_names():
        if name == "bind_password" or not (all_fields or name in settings.fixed):
            continue
        value = getattr(settings, name)
        if name == "urls":
            value = " ".join(value)
        elif name == "group_map":
            value = json.dumps(value, indent=1, sort_keys=True) if value else ""
        form[name].data = value


def _page(form: DirectorySettingsForm, status: int) -> tuple[str, int]:
    settings = directory.load_settings()
    _fill(form, settings, all_fields=False)
    for name in settings.fixed:
        form[name].render_kw = {**(form[name].render_kw or {}), "disabled": True}
    row = directory.settings_row() if settings.configured else None
    return (
        render_template(
            "admin/directory.html",
            form=form,
            action_form=SubmitOnlyForm(),
            settings=settings,
            fixed=settings.fixed,
            password_stored=bool(settings.bind_password),
            last_sync_at=row.last_sync_at if row is not None else None,
        ),
        status,
    )


def _contract_names(posted: MultiDict[str, str]) -> MultiDict[str, str]:
    """Accept `url`, the name FLASK_LDAP_URL gives the field, for the page's `urls`."""
    if "url" not in posted or "urls" in posted:
        return posted
    renamed = posted.copy()
    renamed.setlist("urls", renamed.poplist("url"))
    return renamed


@bp.route("/settings/directory", methods=["GET", "POST"])
def directory_settings() -> Response | tuple[str, int]:
    form = DirectorySettingsForm(formdata=_contract_names(request.form) if request.form else None)
    if request.method == "GET":
        _fill(form, directory.load_settings(), all_fields=True)
        return _page(form, 200)
    # A browser does not send disabled fields: the server's values stand in for them.
    _fill(form, directory.load_settings(), all_fields=False)
    if not form.validate_on_submit():
        return _page(form, 400)
    given = directory.SettingsInput(
        **{
            name: (bool(form[name].data) if name == "start_tls" else (form[name].data or ""))
            for name in directory.field_names()
        }
    )
    try:
        changed = directory.save_settings(given, now=utcnow(), actor=current_user, ip=client_ip())
    except directory.DirectoryRefusal as error:
        db.session.rollback()
        if error.field:
            form[error.field].errors = [error.text]
        return _page(form, 400)
    db.session.commit()
    flash(message("directory.saved" if changed else "directory.unchanged"), "success")
    return redirect(url_for("admin.directory_settings"), code=303)


@bp.route("/settings/directory/test", methods=["POST"])
def directory_test() -> Response:
    """Connect and say how many users the filter matches, or what the directory answered."""
    back = redirect(url_for("admin.directory_settings"), code=303)
    if not SubmitOnlyForm().validate_on_submit():
        return back
    try:
        found = directory.test_connection(now=utcnow(), actor=current_user, ip=client_ip())
    except directory.DirectoryRefusal as error:
        flash(error.text, "error")
        return back
    except DirectoryError as error:
        db.session.commit()  # the failed test is on record
        flash(message("directory.test_failed", error=str(error)), "error")
        return back
    db.session.commit()
    flash(message("directory.test_found", count=found.count), "success")
    if found.sample:
        logins = ", ".join(entry.login or entry.dn for entry in found.sample)
        flash(message("directory.test_sample", logins=logins), "info")
    return back


@bp.route("/settings/directory/sync", methods=["POST"])
def directory_sync() -> Response:
    """Synchronise now, and show the summary."""
    back = redirect(url_for("admin.directory_settings"), code=303)
    if not SubmitOnlyForm().validate_on_submit():
        return back
    try:
        summary = directory.synchronise(now=utcnow(), actor=current_user, ip=client_ip())
    except directory.DirectoryRefusal as error:
        db.session.rollback()
        flash(error.text, "error")
        return back
    except DirectoryError as error:
        db.session.rollback()
        flash(message("directory.sync_failed", error=str(error)), "error")
        return back
    db.session.commit()
    flash(
        message(
            "directory.synced",
            created=summary.created,
            updated=summary.updated,
            blocked=summary.blocked,
            unchanged=summary.unchanged,
            errors=len(summary.errors),
        ),
        "success",
    )
    for error_text in directory.summary_errors(summary)[:5]:
        flash(error_text, "error")
    return back
