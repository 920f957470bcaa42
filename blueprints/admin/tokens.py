"""The hardware token inventory: the list, the import of a vendor's file, taking a token back.

For administrators and holders of "Manage one-time passwords", as the users' two-step
tabs. Assigning a token is done on the user's tab (user_otp.py, `source=inventory`).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from blueprints.admin import bp, requires_right
from extensions import db
from forms.query import MAX_PAGE, int_arg
from forms.tokens import TokenFilterForm, TokenImportForm, TokenReturnForm
from models import utcnow
from security import token_inventory
from security.messages import message
from security.two_step import TwoStepError
from web.guards import recent_sign_in
from web.signin_session import client_ip, current_session_id

# What taking a token back says, by where it went.
TAKEN_BACK = {
    "unassigned": "tokens.taken_back.unassigned",
    "lost": "tokens.taken_back.lost",
    "retired": "tokens.taken_back.retired",
}


def _list_url() -> str:
    return url_for("admin.tokens")


def _page(
    import_form: TokenImportForm, status: int, problems: list[str] | None = None
) -> tuple[str, int]:
    filters = TokenFilterForm(request.args)
    valid = filters.validate()
    state = (filters.state.data or None) if valid else None
    serial = (filters.serial.data or "") if valid else ""
    page = token_inventory.list_tokens(
        state=state, serial=serial, page=int_arg(request.args, "page", 1, high=MAX_PAGE)
    )
    return render_template(
        "admin/tokens.html",
        filters=filters,
        page=page,
        counts=token_inventory.state_counts(),
        states=token_inventory.STATES,
        import_form=import_form,
        return_form=TokenReturnForm(formdata=None),
        problems=problems or [],
        filter_args={k: v for k, v in (("state", state), ("serial", serial)) if v},
    ), status


@bp.route("/security/tokens")
@requires_right("manage_otp")
def tokens() -> ResponseReturnValue:
    return _page(TokenImportForm(formdata=None), 200)


@bp.route("/security/tokens/import", methods=["POST"])
@requires_right("manage_otp")
def tokens_import() -> ResponseReturnValue:
    form = TokenImportForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    upload = request.files.get("file")
    data = upload.read(token_inventory.MAX_FILE_BYTES + 1) if upload is not None else b""
    if not data:
        form.file.errors = [message("tokens.file_needed")]
        return _page(form, 400)
    password, key_hex = form.password.data or "", form.key.data or ""
    if password and key_hex:
        form.key.errors = [message("tokens.problem.password_and_key")]
        return _page(form, 400)
    try:
        count = token_inventory.import_file(
            data,
            password=password,
            key_hex=key_hex,
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
        )
    except token_inventory.ImportRefused as refused:
        db.session.commit()  # only the refusal's event is in the session
        return _page(form, 400, problems=refused.problems)
    db.session.commit()
    flash(message("tokens.imported", count=count), "success")
    return redirect(_list_url(), code=303)


@bp.route("/security/tokens/<int:token_id>/return", methods=["POST"])
@requires_right("manage_otp")
@recent_sign_in(lambda **_: _list_url(), post_only=True)
def tokens_return(token_id: int) -> ResponseReturnValue:
    token = token_inventory.token_by_id(token_id)
    if token is None:
        abort(404)
    holder = token_inventory.holder_of(token)
    if holder is not None and holder.is_admin and not current_user.is_admin:
        abort(403)  # an administrator's device is for administrators (logged by the handler)
    form = TokenReturnForm()
    if not form.validate_on_submit():
        flash(message("tokens.bad_target"), "error")
        return redirect(_list_url(), code=303)
    to = form.to.data or ""
    try:
        token_inventory.take_back(
            token,
            to,
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
            keep_session_id=current_session_id(),
        )
    except TwoStepError as error:
        if error.status == 403:
            db.session.commit()
            abort(403, description=error.text)
        db.session.rollback()
        flash(error.text, "error")
        return redirect(_list_url(), code=303)
    db.session.commit()
    flash(message(TAKEN_BACK[to], serial=token.serial), "success")
    return redirect(_list_url(), code=303)
