"""Settings → Notifications: the kinds sent by e-mail, the mail settings, a test message."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.admin import bp
from extensions import db
from forms.auth import SubmitOnlyForm
from forms.notifications import NotificationSettingsForm
from integrations import mail
from models import utcnow
from security import events, mail_outbox, notices
from security.messages import message
from web.notice_text import NOTICE_TEXTS, render_test_mail
from web.signin_session import client_ip


def _kind_choices() -> list[tuple[str, str]]:
    return [(kind, message(NOTICE_TEXTS[kind][0])) for kind in notices.KINDS]


def _page(form: NotificationSettingsForm, status: int) -> tuple[str, int]:
    form.kinds.choices = _kind_choices()
    return (
        render_template(
            "admin/notifications.html",
            form=form,
            test_form=SubmitOnlyForm(),
            server=mail.mail_server_from(current_app.config),
            public_url=current_app.config["PUBLIC_URL"],
            failed=mail_outbox.failed_messages(),
            queue=mail_outbox.queue_counts(),
        ),
        status,
    )


@bp.route("/settings/notifications", methods=["GET", "POST"])
def notification_settings() -> Response | tuple[str, int]:
    form = NotificationSettingsForm()
    if request.method == "GET":
        form.kinds.data = [kind for kind in notices.KINDS if kind not in notices.kinds_not_mailed()]
        return _page(form, 200)
    if not form.validate_on_submit():
        return _page(form, 400)
    chosen = set(form.kinds.data or [])
    if not chosen <= set(notices.KINDS):
        form.kinds.errors = [message("notify.unknown_kind")]
        return _page(form, 400)
    changed = notices.set_mailed_kinds(chosen, now=utcnow(), actor=current_user, ip=client_ip())
    db.session.commit()
    flash(message("notify.saved" if changed else "notify.unchanged"), "success")
    return redirect(url_for("admin.notification_settings"), code=303)


@bp.route("/settings/notifications/test", methods=["POST"])
def notification_test() -> Response:
    """Send a test message to the administrator's own address, and say what the server said."""
    back = redirect(url_for("admin.notification_settings"), code=303)
    server = mail.mail_server_from(current_app.config)
    if server is None:
        flash(message("notify.no_mail_server"), "error")
        return back
    if not current_user.email:
        flash(message("notify.test_no_address"), "error")
        return back
    now = utcnow()
    try:
        reply = mail.send_test_message(
            server, current_user.email, render_test_mail(current_user, now=now), now
        )
    except mail.MailError as error:
        flash(message("notify.test_failed", reply=str(error)), "error")
        outcome = events.FAILURE
    else:
        flash(message("notify.test_sent", reply=reply), "success")
        outcome = events.SUCCESS
    events.record(
        events.TEST_MAIL_SENT, now=now, ip=client_ip(), actor=current_user, outcome=outcome
    )
    db.session.commit()
    return back
