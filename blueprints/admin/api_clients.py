"""Settings → API clients: the services that may call the console's API, and their keys."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.admin import bp
from extensions import db
from forms.api import ApiClientForm
from models import User, utcnow
from security import api_clients, app_passwords
from security.api_clients import ApiClientError
from security.messages import message
from web.signin_session import client_ip


def _page(form: ApiClientForm, status: int) -> tuple[str, int]:
    return render_template(
        "admin/api_clients.html", form=form, clients=api_clients.clients()
    ), status


@bp.route("/api-clients", methods=["GET", "POST"])
def api_clients_page() -> ResponseReturnValue:
    """List the clients; POST makes one and shows its key once."""
    if request.method == "GET":
        return _page(ApiClientForm(formdata=None, data={"scopes": ["validate"]}), 200)
    form = ApiClientForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        made = api_clients.create_client(
            form.name.data or "",
            list(form.scopes.data or []),
            form.networks.data or "",
            now=utcnow(),
            actor=current_user,
            ip=client_ip(),
        )
    except ApiClientError as error:
        db.session.rollback()
        getattr(form, error.field or "name").errors = [error.text]
        return _page(form, 400)
    name = made.client.name
    db.session.commit()
    return render_template(
        "admin/api_client_key.html", key=made.key, name=name, back=url_for("admin.api_clients_page")
    ), 200


@bp.route("/api-clients/<int:client_id>/revoke", methods=["POST"])
def api_client_revoke(client_id: int) -> Response:
    revoked = api_clients.revoke_client(client_id, now=utcnow(), actor=current_user, ip=client_ip())
    db.session.commit()
    flash(
        message("api_client.revoked" if revoked else "api_client.unknown"),
        "success" if revoked else "error",
    )
    return redirect(url_for("admin.api_clients_page"), code=303)


# --- a person's application passwords, on their two-step tab ---------------------------


def _user_tab(user_id: int) -> Response:
    return redirect(url_for("admin.edit_user", user_id=user_id, tab="otp"), code=303)


@bp.route("/users/<int:user_id>/app-passwords/<int:password_id>/revoke", methods=["POST"])
def user_app_password_revoke(user_id: int, password_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    revoked = app_passwords.revoke_app_password(
        user, password_id, now=utcnow(), actor=current_user, ip=client_ip()
    )
    db.session.commit()
    if revoked:
        flash(message("app_password.revoked"), "success")
    else:
        flash(message("app_password.unknown"), "error")
    return _user_tab(user_id)


@bp.route("/users/<int:user_id>/app-passwords/revoke-all", methods=["POST"])
def user_app_passwords_revoke_all(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    count = app_passwords.revoke_all(user, now=utcnow(), actor=current_user, ip=client_ip())
    db.session.commit()
    flash(message("app_password.all_revoked", count=count), "success")
    return _user_tab(user_id)
