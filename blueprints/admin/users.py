"""Users: the list, the new-user form and the tabbed profile form."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from blueprints.admin import bp, requires_right, user_otp
from extensions import db
from forms.admin import UserFilterForm, UserForm
from forms.bulk import BulkActionForm
from forms.query import MAX_PAGE, int_arg, int_value
from models import EMPLOYEES_GROUP_ID, User, utcnow
from security import accounts, list_queries, preferences
from security.accounts import Profile
from security.form_layouts.layout import FormLayout
from security.form_layouts.storage import resolved_layout
from security.messages import Refusal, message
from web.filters import group_name
from web.signin_session import client_ip, require_recent_sign_in


def _group_choices() -> list[tuple[int, str]]:
    return [(group.id, group_name(group)) for group in list_queries.all_groups()]


@bp.route("/users")
def users() -> tuple[str, int]:
    form = UserFilterForm(request.args)
    groups = list_queries.all_groups()
    form.group.choices = [("", message("admin.all_groups"))] + [
        (str(g.id), group_name(g)) for g in groups
    ]
    valid = form.validate()
    group_id = int_value(form.group.data) if valid else None
    now = utcnow()
    page = list_queries.search_users(
        query=(form.q.data or "") if valid else "",
        group_id=group_id,
        otp_status=(form.otp.data or None) if valid else None,
        now=now,
        page=(form.page.data or 1) if valid else 1,
        per_page=(form.per_page.data or 50) if valid else 50,
    )
    otp_status = list_queries.status_for_users([user.id for user in page.items], now=now)
    # The bar of bulk actions acts on the rows ticked, or on every user the filters match.
    bulk_form = BulkActionForm(formdata=None) if valid else None
    return render_template(
        "admin/users.html", form=form, page=page, otp_status=otp_status, bulk_form=bulk_form
    ), 200 if valid else 400


def _apply_errors(form: UserForm, error: Refusal) -> None:
    field = getattr(form, error.field or "login", form.login)
    field.errors = [*field.errors, error.text]


def _user_layout() -> FormLayout:
    return resolved_layout("user_edit", current_user.id)


def _keep_hidden_fields(form: UserForm, layout: FormLayout, user: User | None) -> None:
    """Give each field the layout hides its stored value, so that saving never changes it."""
    hidden = set(layout.hidden_fields)
    for name in hidden:
        if name in ("password", "password_confirm"):
            form[name].data = ""
        elif name == "groups":
            form.groups.data = [group.id for group in user.groups] if user else []
        elif name == "active":
            form.active.data = user.active if user else True
        else:
            form[name].data = getattr(user, name) if user else ""
    if "password_confirm" in hidden and "password" not in hidden:
        # Nothing to repeat the password into: the one field shown decides.
        form.password_confirm.data = form.password.data


def _preferences(form: UserForm, user: User | None) -> preferences.Preferences:
    return form.chosen_preferences(preferences.of(user) if user else preferences.Preferences())


def _profile(form: UserForm) -> Profile:
    return Profile(
        email=form.email.data or "", name=form.name.data or "", last_name=form.last_name.data or ""
    )


# Which submissions ask for the password again when the administrator's sign-in is older than
# REAUTH_MINUTES. Asked only when the submission really changes something sensitive, so that
# an ordinary edit (a name, an e-mail) still works from a session left open:
# - on the profile form, a new password or any change of group membership: groups give
#   rights (Administrators above all) and decide who must use two-step;
# - on the new-user form, a group that gives a right: a new account with a password its
#   creator knows is a way in, but without rights it reaches only its own My page. (Creating
#   a user with a password is not setting another user's password: nobody held the account.)
def _groups_change(user: User, group_ids: list[int]) -> bool:
    # Every user is in Employees whatever the form says (see accounts.update_user).
    wanted = set(group_ids) | {EMPLOYEES_GROUP_ID}
    return wanted != {group.id for group in user.groups}


def _grants_rights(group_ids: list[int]) -> bool:
    return any(
        group.is_admin or group.can_manage_otp
        for group in list_queries.all_groups()
        if group.id in group_ids
    )


def _active_tab(layout: FormLayout) -> str:
    active_tab = request.args.get("tab", "main")
    return active_tab if layout.tab(active_tab) is not None else layout.tabs[0].id


def _user_form(user: User | None, layout: FormLayout) -> UserForm:
    """The profile form: the stored values to show (GET), or what was sent (POST)."""
    form = UserForm(obj=user if request.method == "GET" else None)
    form.groups.choices = _group_choices()
    if request.method == "GET":
        form.groups.data = [group.id for group in user.groups] if user else []
        form.password.data = ""
    else:
        _keep_hidden_fields(form, layout, user)
    return form


def _user_page(
    form: UserForm, user: User | None, layout: FormLayout, active_tab: str, status: int
) -> tuple[str, int]:
    """Show the tabbed profile form (of a new user when `user` is None)."""
    events_page = None
    if user is not None and active_tab == "events":
        events_page = list_queries.search_events(
            subject_id=user.id,
            page=int_arg(request.args, "events_page", 1, high=MAX_PAGE),
            per_page=20,
        )
    return render_template(
        "admin/user_edit.html",
        form=form,
        user=user,
        layout=layout,
        active_tab=active_tab,
        events_page=events_page,
        otp_tab=user_otp.otp_tab_context(user) if user and active_tab == "otp" else None,
        otp_unavailable=message("layout.otp_after_save") if user is None else None,
    ), status


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> ResponseReturnValue:
    # A new user needs a password, whatever the layout hides.
    layout = _user_layout().revealing(("password", "password_confirm"))
    active_tab = _active_tab(layout)
    form = _user_form(None, layout)
    if form.validate_on_submit():
        answer = _create_user(form, active_tab)
        if answer is not None:
            return answer
    return _user_page(form, None, layout, active_tab, 400 if request.method == "POST" else 200)


def _create_user(form: UserForm, active_tab: str) -> ResponseReturnValue | None:
    """Create the user from a valid form; None when a rule refused it (said on the form)."""
    if _grants_rights(form.groups.data or []):
        refusal = require_recent_sign_in(url_for("admin.new_user", tab=active_tab))
        if refusal is not None:
            return refusal
    if not form.password.data:
        form.password.errors = [message("form.required")]
        return None
    try:
        user = accounts.create_user(
            form.login.data or "",
            form.password.data,
            now=utcnow(),
            profile=_profile(form),
            group_ids=form.groups.data or [],
            active=bool(form.active.data),
            actor=current_user,
            ip=client_ip(),
        )
        preferences.apply(
            user, _preferences(form, None), now=utcnow(), actor=current_user, ip=client_ip()
        )
    except Refusal as error:
        db.session.rollback()
        _apply_errors(form, error)
        return None
    db.session.commit()
    flash(message("user.created", login=user.login), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


def profile_form_for_admins(view: Callable[..., ResponseReturnValue]) -> Any:
    """Open the profile form to administrators; holders of "Manage one-time passwords"
    see only the two-step tab, on its own page."""

    @wraps(view)
    def guarded(user_id: int) -> ResponseReturnValue:
        if not current_user.is_admin:
            if request.method == "GET" and request.args.get("tab") == "otp":
                return redirect(url_for("admin.user_otp", user_id=user_id), code=303)
            abort(403)
        return view(user_id=user_id)

    return guarded


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires_right("manage_otp")
@profile_form_for_admins
def edit_user(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    layout = _user_layout()
    active_tab = _active_tab(layout)
    form = _user_form(user, layout)
    if request.method == "GET":
        return _user_page(form, user, layout, active_tab, 200)
    if form.validate_on_submit():
        answer = _save_user(user, form, active_tab)
        if answer is not None:
            return answer
        user = db.session.get(User, user_id)  # read again after the refusal's rollback
    return _user_page(form, user, layout, active_tab, 400)


def _save_user(user: User, form: UserForm, active_tab: str) -> ResponseReturnValue | None:
    """Save a valid profile form; None when a rule refused it (said on the form)."""
    back = url_for("admin.edit_user", user_id=user.id, tab=active_tab)
    if form.password.data or _groups_change(user, form.groups.data or []):
        refusal = require_recent_sign_in(back)
        if refusal is not None:
            return refusal
    try:
        changed = accounts.update_user(
            user,
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
            login=form.login.data or "",
            profile=_profile(form),
            active=bool(form.active.data),
            group_ids=form.groups.data or [],
            new_password=form.password.data or "",
        )
        changed += preferences.apply(
            user, _preferences(form, user), now=utcnow(), actor=current_user, ip=client_ip()
        )
    except Refusal as error:
        db.session.rollback()
        _apply_errors(form, error)
        return None
    db.session.commit()
    flash(message("user.saved" if changed else "user.unchanged"), "success")
    return redirect(back, code=303)
