"""My page: the employee's own profile and security settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.signin_session import client_ip, current_session_id, session_limits
from extensions import db
from forms.auth import SubmitOnlyForm
from forms.mypage import PasswordChangeForm
from models import UserSession, utcnow
from security import accounts, events, sessions
from security.accounts import AccountError
from security.messages import message

bp = Blueprint("mypage", __name__, url_prefix="/my")


@bp.route("/")
def index() -> str:
    return render_template("mypage/index.html", user=current_user)


def _render_security(password_form: PasswordChangeForm, status: int = 200) -> tuple[str, int]:
    now = utcnow()
    return (
        render_template(
            "mypage/security.html",
            user=current_user,
            password_form=password_form,
            button_form=SubmitOnlyForm(),
            sessions=sessions.active_sessions(current_user.id, now=now, limits=session_limits()),
            current_session_id=current_session_id(),
        ),
        status,
    )


@bp.route("/security")
def security() -> tuple[str, int]:
    return _render_security(PasswordChangeForm(formdata=None))


@bp.route("/security/password", methods=["POST"])
def change_password() -> Response | tuple[str, int]:
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _render_security(form, 400)
    try:
        accounts.change_own_password(
            current_user,
            form.current_password.data or "",
            form.new_password.data or "",
            now=utcnow(),
            ip=client_ip(),
            session_id=current_session_id(),
        )
    except AccountError as error:
        db.session.commit()  # keep the refusal on record; nothing else changed
        field = getattr(form, error.field or "new_password")
        field.errors = [message(error.message_key, **error.values)]
        return _render_security(form, 400)
    db.session.commit()
    flash(message("mypage.password_changed"), "success")
    return redirect(url_for("mypage.security"), code=303)


@bp.route("/sessions/<session_id>/end", methods=["POST"])
def end_session(session_id: str) -> Response:
    record = db.session.get(UserSession, session_id[:64])
    if record is None or record.user_id != current_user.id:
        abort(404)
    now = utcnow()
    sessions.end_session(record, now=now, reason="ended_by_user")
    events.record(
        events.SESSION_ENDED,
        now=now,
        ip=client_ip(),
        actor=current_user,
        subject=current_user,
        details={"which": "one"},
    )
    db.session.commit()
    flash(message("mypage.session_ended"), "success")
    if session_id == current_session_id():
        return redirect(url_for("auth.login"), code=303)
    return redirect(url_for("mypage.security"), code=303)


@bp.route("/sessions/end-others", methods=["POST"])
def end_other_sessions() -> Response:
    now = utcnow()
    ended = sessions.end_user_sessions(
        current_user.id, now=now, reason="ended_by_user", keep_session_id=current_session_id()
    )
    events.record(
        events.SESSION_ENDED,
        now=now,
        ip=client_ip(),
        actor=current_user,
        subject=current_user,
        details={"which": "others", "count": ended},
    )
    db.session.commit()
    flash(message("mypage.other_sessions_ended"), "success")
    return redirect(url_for("mypage.security"), code=303)
