"""A notice in the reader's words: on My page in the reader's language and zone, and as an
e-mail in the recipient's.

The notice keeps machine values (ISO times, logins, counts); the sentence is chosen and
filled here, when it is read, so that a person who changes language reads their old
notices in the new one.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, render_template
from flask_babel import force_locale

from extensions import db
from integrations.mail import RenderedMail
from models import Notice, OutgoingMail, User
from security import notices
from security.messages import message
from web.filters import browser_name
from web.i18n import local_time_text

# Each kind's subject and sentence; a kind from a later version shows its subject key.
NOTICE_TEXTS = {
    notices.OTP_CONNECTED: ("notice.otp_connected.subject", "notice.otp_connected.text"),
    notices.OTP_DISABLED: ("notice.otp_disabled.subject", "notice.otp_disabled.text"),
    notices.OTP_ENABLED: ("notice.otp_enabled.subject", "notice.otp_enabled.text"),
    notices.OTP_REMOVED: ("notice.otp_removed.subject", "notice.otp_removed.text"),
    notices.RECOVERY_CODES_GENERATED: (
        "notice.recovery_codes_generated.subject",
        "notice.recovery_codes_generated.text",
    ),
    notices.RECOVERY_CODE_USED: (
        "notice.recovery_code_used.subject",
        "notice.recovery_code_used.text",
    ),
    notices.TEMPORARY_CODE_ISSUED: (
        "notice.temporary_code_issued.subject",
        "notice.temporary_code_issued.text",
    ),
    notices.OTP_LOCKED: ("notice.otp_locked.subject", "notice.otp_locked.text"),
    notices.NEW_BROWSER: ("notice.new_browser.subject", "notice.new_browser.text"),
    notices.PASSWORD_CHANGED: ("notice.password_changed.subject", "notice.password_changed.text"),
    notices.GRACE_STARTED: ("notice.grace_started.subject", "notice.grace_started.text"),
    notices.GRACE_REMINDER_3_DAYS: (
        "notice.grace_reminder_3_days.subject",
        "notice.grace_reminder_3_days.text",
    ),
    notices.GRACE_REMINDER_1_DAY: (
        "notice.grace_reminder_1_day.subject",
        "notice.grace_reminder_1_day.text",
    ),
    notices.GRACE_OVERDUE: ("notice.grace_overdue.subject", "notice.grace_overdue.text"),
    notices.ADMIN_LOCKED: ("notice.admin_locked.subject", "notice.admin_locked.text"),
    notices.TWO_STEP_SWITCHED_OFF: (
        "notice.two_step_switched_off.subject",
        "notice.two_step_switched_off.text",
    ),
    notices.BULK_REMINDER: ("notice.connect_reminder.subject", "notice.connect_reminder.text"),
    notices.APP_PASSWORDS_REVOKED: (
        "notice.app_passwords_revoked.subject",
        "notice.app_passwords_revoked.text",
    ),
}
# Another sentence when the notice's values call for it.
_SELF_OR_OTHER = {
    # kind: (the key when someone else did it)
    notices.OTP_CONNECTED: "notice.otp_connected_by.text",
    notices.PASSWORD_CHANGED: "notice.password_changed_by.text",
}


def _time(value: object, zone: str | None) -> str:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return local_time_text(moment, zone=zone)


def _actor(login: object) -> str:
    if login:
        return message("notice.actor_administrator", login=login)
    return message("notice.actor_command_line")


def notice_subject(notice: Notice) -> str:
    keys = NOTICE_TEXTS.get(notice.kind)
    return message(keys[0]) if keys else notice.kind


def notice_sentence(notice: Notice, *, zone: str | None = None) -> str:
    """The notice's sentence, its times in `zone` (default: the reader's)."""
    keys = NOTICE_TEXTS.get(notice.kind)
    if keys is None:
        return notice.kind
    values = notices.values_of(notice)
    key = keys[1]
    if notice.kind in _SELF_OR_OTHER and values.get("actor"):
        key = _SELF_OR_OTHER[notice.kind]
    if notice.kind == notices.OTP_DISABLED and not values.get("until"):
        key = "notice.otp_disabled_forever.text"
    if notice.kind == notices.BULK_REMINDER and not values.get("deadline"):
        key = "notice.connect_reminder_no_deadline.text"
    shown: dict[str, object] = {"time": local_time_text(notice.created_at, zone=zone)}
    for name, value in values.items():
        if name in ("until", "deadline"):
            shown[name] = _time(value, zone)
        elif name == "actor":
            shown[name] = _actor(value)
        elif name == "browser":
            shown[name] = browser_name(str(value))
        else:
            shown[name] = value
    # str.format leaves out the values a sentence does not name.
    return message(key, **shown)


def render_mail(mail: OutgoingMail, *, public_url: str) -> RenderedMail:
    """The e-mail of a notice, in its recipient's language and zone."""
    notice = mail.notice
    user = db.session.get(User, notice.user_id)
    language = (user.language if user else "") or current_app.config["DEFAULT_LANGUAGE"]
    zone = (user.timezone if user else "") or current_app.config["DEFAULT_TIMEZONE"]
    with force_locale(language):
        subject = notice_subject(notice)
        sentence = notice_sentence(notice, zone=zone)
        link = f"{public_url.rstrip('/')}/my/notifications" if public_url else ""
        context = {
            "greeting": message("mail.greeting", name=user.display_name if user else ""),
            "sentence": sentence,
            "link": link,
            "link_line": message("mail.see_notices", url=link) if link else "",
            "footer": message("mail.footer", product=message("nav.product")),
            "language": language,
            "subject": subject,
        }
        text = render_template("mail/notice.txt", **context)
        html = render_template("mail/notice.html", **context)
    return RenderedMail(subject=f"{subject} · {message('nav.product')}", text=text, html=html)


def render_test_mail(user: User, *, now: datetime) -> RenderedMail:
    """The settings page's test message, in the administrator's own language."""
    product = message("nav.product")
    sentence = message("mail.test.text", product=product, time=local_time_text(now))
    context = {
        "greeting": message("mail.greeting", name=user.display_name),
        "sentence": sentence,
        "link": "",
        "link_line": "",
        "footer": message("mail.footer", product=product),
        "language": str(current_app.config["DEFAULT_LANGUAGE"]),
        "subject": message("mail.test.subject"),
    }
    return RenderedMail(
        subject=f"{message('mail.test.subject')} · {product}",
        text=render_template("mail/notice.txt", **context),
        html=render_template("mail/notice.html", **context),
    )


def register(app: Flask) -> None:
    """Give templates a notice's subject and sentence."""
    app.jinja_env.globals["notice_subject"] = notice_subject
    app.jinja_env.globals["notice_sentence"] = notice_sentence
