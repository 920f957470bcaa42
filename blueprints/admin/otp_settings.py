"""Settings → Proactive protection → Two-step authentication: the switch and the Parameters tab.

Administrators only (the default right of the admin blueprint).
"""

from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.admin import bp
from extensions import db
from forms.auth import SubmitOnlyForm
from forms.otp_settings import OtpParametersForm
from models import utcnow
from security import list_queries
from security.form_layouts.layout import FormLayout, TabLayout
from security.form_layouts.storage import resolved_layout
from security.messages import message
from security.otp_settings import (
    Parameters,
    SettingsError,
    current_parameters,
    load_settings,
    set_enabled,
    update_parameters,
)
from web.filters import group_name
from web.signin_session import client_ip, require_recent_sign_in

FORM_ID = "otp_settings"
STATE_TAB = "state"
PARAMETERS_TAB = "parameters"


def _group_choices() -> list[tuple[int, str]]:
    return [(group.id, group_name(group)) for group in list_queries.all_groups()]


def _layout() -> FormLayout:
    """Return this person's layout of the page; two plain tabs if no layout is registered."""
    try:
        return resolved_layout(FORM_ID, current_user.id)
    except KeyError:
        return FormLayout(
            form_id=FORM_ID,
            title=message("admin.otp_settings_title"),
            all_tabs=(
                TabLayout(STATE_TAB, message("otp.two_step"), holds_fields=False),
                TabLayout(PARAMETERS_TAB, message("admin.otp_settings_tab_parameters")),
            ),
        )


def _with_state_tab(layout: FormLayout) -> FormLayout:
    # The global switch must stay reachable, whatever a saved layout says.
    if layout.tab(STATE_TAB) is not None:
        return layout
    tabs = [replace(tab, hidden=False) if tab.id == STATE_TAB else tab for tab in layout.all_tabs]
    return replace(layout, all_tabs=tuple(tabs))


def _render(
    form: OtpParametersForm, layout: FormLayout, active_tab: str, status: int
) -> tuple[str, int]:
    settings = load_settings()
    form.mandatory_groups.choices = _group_choices()
    return render_template(
        "admin/otp_settings.html",
        form=form,
        settings=settings,
        layout=layout,
        active_tab=active_tab,
        button_form=SubmitOnlyForm(),
        otp_tab_hidden=message("layout.otp_tab_hidden") if _user_form_hides_otp_tab() else None,
    ), status


def _user_form_hides_otp_tab() -> bool:
    try:
        return resolved_layout("user_edit", current_user.id).tab("otp") is None
    except KeyError:
        return False


@bp.route("/security/otp", methods=["GET", "POST"])
def otp_settings() -> Response | tuple[str, int]:
    layout = _with_state_tab(_layout())
    active_tab = request.args.get("tab", STATE_TAB)
    if layout.tab(active_tab) is None:
        active_tab = layout.tabs[0].id
    stored = current_parameters(load_settings())
    if request.method == "GET":
        form = OtpParametersForm(formdata=None)
        form.fill(stored)
        return _render(form, layout, active_tab, 200)
    active_tab = PARAMETERS_TAB if layout.tab(PARAMETERS_TAB) else active_tab
    return _save_parameters(stored, layout, active_tab)


def _save_parameters(
    stored: Parameters, layout: FormLayout, active_tab: str
) -> Response | tuple[str, int]:
    """Save the Parameters tab; show it again with the messages when something is wrong."""
    form = OtpParametersForm()
    form.mandatory_groups.choices = _group_choices()
    form.validate_on_submit()
    # Fields the layout hides keep their stored values: saving never changes what is not shown.
    hidden = layout.hidden_fields
    form.keep(stored, hidden)
    for name in hidden:
        if name in form:
            form[name].errors = []
    if any(field.errors for field in form):
        return _render(form, layout, active_tab, 400)
    # The Parameters decide who must use two-step and how hard guessing is: a session left
    # open must give the password again. Bad input is shown first, since it changes nothing.
    refusal = require_recent_sign_in(url_for("admin.otp_settings", tab=active_tab))
    if refusal is not None:
        return refusal
    try:
        changed = update_parameters(
            form.parameters(), now=utcnow(), actor=current_user, ip=client_ip()
        )
    except SettingsError as error:
        db.session.rollback()
        field = form[error.field] if error.field in form else form.issuer
        field.errors = [*field.errors, error.text]
        return _render(form, layout, active_tab, 400)
    db.session.commit()
    flash(message("otp.settings_saved" if changed else "otp.settings_unchanged"), "success")
    return redirect(url_for("admin.otp_settings", tab=active_tab), code=303)


def _switch(enabled: bool) -> Response | tuple[str, int]:
    form = SubmitOnlyForm()
    if not form.validate_on_submit():
        # Only the CSRF token can fail here; the CSRF error handler answers first when on.
        form_view = OtpParametersForm(formdata=None)
        form_view.fill(current_parameters(load_settings()))
        return _render(form_view, _with_state_tab(_layout()), STATE_TAB, 400)
    # Switching two-step off (or on) for everyone needs a recent sign-in.
    refusal = require_recent_sign_in(url_for("admin.otp_settings", tab=STATE_TAB))
    if refusal is not None:
        return refusal
    set_enabled(enabled, now=utcnow(), actor=current_user, ip=client_ip())
    db.session.commit()
    flash(message("otp.enabled_globally" if enabled else "otp.disabled_globally"), "success")
    return redirect(url_for("admin.otp_settings", tab=STATE_TAB), code=303)


@bp.route("/security/otp/enable", methods=["POST"])
def otp_settings_enable() -> Response | tuple[str, int]:
    return _switch(True)


@bp.route("/security/otp/disable", methods=["POST"])
def otp_settings_disable() -> Response | tuple[str, int]:
    return _switch(False)
