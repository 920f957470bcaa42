"""Bulk actions on the user list: one two-step action over many users, confirmed first.

Without `confirmed=1` the answer is a page saying who would change and who would be
refused and why (nothing changes); with it, the change, then back to the list with a
summary. Each user goes through the domain function of the single action
(security.bulk_actions).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from blueprints.admin import bp, requires_right
from extensions import db
from forms.bulk import BulkActionForm
from models import utcnow
from security import bulk_actions, list_queries
from security.bulk_actions import BulkAction, Plan
from security.messages import Refusal, message
from web.guards import two_step_on
from web.i18n import local_time_text
from web.signin_session import client_ip, current_session_id, require_recent_sign_in

# Users named on the confirmation page and in the summary, per list; the counts are whole.
SHOWN_USERS = 200
SHOWN_IN_SUMMARY = 10


def _form() -> BulkActionForm:
    form = BulkActionForm()
    form.group.choices = [""] + [str(group.id) for group in list_queries.all_groups()]
    return form


def _flag(name: str) -> bool:
    """`all_matching=1`, `confirmed=1`: only "1" says yes."""
    return request.form.get(name) == "1"


def _list_url(form: BulkActionForm) -> str:
    """The user list, filtered as it was (only filters the form found valid)."""
    args = {
        name: value
        for name, value in (
            ("q", form.q.data if not form.q.errors else ""),
            ("otp", form.otp.data if not form.otp.errors else ""),
            ("group", form.group.data if not form.group.errors else ""),
        )
        if value
    }
    return url_for("admin.users", **args)


@bp.route("/users/bulk", methods=["POST"])
@requires_right("manage_otp")
@two_step_on(lambda **_: url_for("admin.users"))
def bulk_users() -> ResponseReturnValue:
    form = _form()
    all_matching = _flag("all_matching")
    now = utcnow()
    if not form.validate_on_submit():
        return _page(form, all_matching, None, 400)
    action = form.bulk_action()
    try:
        bulk_actions.check_action(action, now=now)
        user_ids = bulk_actions.selected_user_ids(form.selection(all_matching), now=now)
    except Refusal as error:
        if error.field and error.field in form:
            form[error.field].errors = [*form[error.field].errors, error.text]
        else:
            form.form_errors.append(error.text)
        return _page(form, all_matching, None, 400)
    if action.name in bulk_actions.NEEDS_RECENT_SIGN_IN:
        # As on the user's tab: a stale session does not switch off or remove devices.
        refusal = require_recent_sign_in(_list_url(form))
        if refusal is not None:
            return refusal
    run = bulk_actions.apply if _flag("confirmed") else bulk_actions.plan
    plan = run(
        action,
        user_ids,
        now=now,
        # The user object itself: thousands of reads through the proxy add up.
        actor=current_user._get_current_object(),
        ip=client_ip(),
        keep_session_id=current_session_id(),
    )
    if not _flag("confirmed"):
        return _page(form, all_matching, plan, 200)
    db.session.commit()
    flash(
        message("bulk.done", changed=len(plan.changed), refused=len(plan.refused)),
        "success" if plan.changed else "info",
    )
    for reason, logins in _refusals(plan).items():
        shown = ", ".join(logins[:SHOWN_IN_SUMMARY])
        if len(logins) > SHOWN_IN_SUMMARY:
            shown += " " + message("bulk.and_more", count=len(logins) - SHOWN_IN_SUMMARY)
        flash(message("bulk.refused_line", reason=reason, count=len(logins), users=shown), "error")
    return redirect(_list_url(form), code=303)


def _refusals(plan: Plan) -> dict[str, list[str]]:
    """The refused users' logins by the sentence of their reason."""
    found: dict[str, list[str]] = defaultdict(list)
    for refused in plan.refused:
        found[message(refused.key, **refused.values)].append(refused.login)
    return found


def _what(action: BulkAction) -> str:
    """What the action does to each user, in a sentence."""
    if action.name == "disable":
        if action.days:
            return message("bulk.what.disable", days=action.days)
        return message("bulk.what.disable_forever")
    if action.name == "defer":
        return message("bulk.what.defer", days=action.days or 0)
    if action.name == "exempt" and action.until is not None:
        return message("bulk.what.exempt", until=local_time_text(action.until, style="date"))
    keys = {
        "enable": "bulk.what.enable",
        "unlock": "bulk.what.unlock",
        "delete_device": "bulk.what.delete_device",
        "remind": "bulk.what.remind",
    }
    return message(keys[action.name])


def _page(
    form: BulkActionForm, all_matching: bool, plan: Plan | None, status: int
) -> tuple[str, int]:
    context: dict[str, Any] = {
        "form": form,
        "plan": plan,
        "back": _list_url(form),
        "shown_users": SHOWN_USERS,
    }
    if plan is not None:
        context |= {
            "what": _what(plan.action),
            "refusals": _refusals(plan),
            "fields": form.hidden_fields(all_matching=all_matching),
        }
    elif not form.user_ids.errors:
        # The selection was readable: keep it, so that the person can correct the rest.
        context["fields"] = [
            (name, value)
            for name, value in form.hidden_fields(all_matching=all_matching)
            if name not in ("action", "days", "until") and not (name in form and form[name].errors)
        ]
    return render_template("admin/bulk_confirm.html", **context), status
