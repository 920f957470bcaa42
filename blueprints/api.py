"""The API for other services under /api/v1: checking credentials, reading two-step state.

JSON only, a client's bearer key in Authorization, no cookies, no CSRF, no CORS. The
views call the same domain functions as the console's sign-in (security.api_validation)
and user list (security.reports); errors are problem documents (web.api_problems). The
OpenAPI document is generated from this module by flask-smorest.
"""

from __future__ import annotations

import http
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Flask, abort, current_app, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.wrappers import Response

from extensions import csrf, db, limiter
from models import ApiClient, utcnow
from security import accounts, api_clients, api_validation, reports
from security.two_step import Status
from web.api_problems import API_PREFIX, PROBLEM_TYPE, is_api_request
from web.signin_session import client_ip

bp = Blueprint(
    "api",
    __name__,
    url_prefix=API_PREFIX,
    description="Check a person's password and second step; read two-step state.",
)

BEARER = "bearerKey"
SECURED: Any = {"security": [{BEARER: []}]}


# --- schemas --------------------------------------------------------------------------


class ProblemSchema(Schema):
    """An RFC 9457 problem document."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class ValidateRequestSchema(Schema):
    """A login with its password and code, or with an application password."""

    login = fields.String(required=True, validate=validate.Length(min=1, max=300))
    password = fields.String(validate=validate.Length(max=1024))
    code = fields.String(validate=validate.Length(max=64))
    app_password = fields.String(validate=validate.Length(max=64))

    @validates_schema
    def _one_way(self, data: dict[str, Any], **_: Any) -> None:
        if ("password" in data) == ("app_password" in data):
            raise ValidationError("give either password (with code) or app_password")
        if "app_password" in data and "code" in data:
            raise ValidationError("an application password takes no code", "code")


class ValidateResponseSchema(Schema):
    result = fields.String(required=True, validate=validate.OneOf(api_validation.RESULTS))
    reason = fields.String(required=True, validate=validate.OneOf(api_validation.REASONS))


class TwoStepSchema(Schema):
    login = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf([status.value for status in Status]))
    method = fields.String(required=True, allow_none=True)
    connected_at = fields.DateTime(required=True, allow_none=True)
    last_used_at = fields.DateTime(required=True, allow_none=True)


class ConsoleApi(Api):
    """flask-smorest, with problem documents for errors and the console's own error pages.

    flask-smorest would register an error handler for every HTTPException of the app,
    replacing the console's HTML pages; web.errors answers API errors itself instead.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {"description": status.phrase, "schema": ProblemSchema}
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "An error", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


api = ConsoleApi()


# --- who calls ------------------------------------------------------------------------


def calling_client(scope: str) -> ApiClient:
    """Return the client whose bearer key came, allowed `scope` from this address; else
    answer 401 (no or wrong key) or 403 (scope or address)."""
    header = request.headers.get("Authorization", "")
    kind, _, key = header.partition(" ")
    client = (
        api_clients.client_for_key(key.strip()) if kind.lower() == "bearer" else None
    )
    now = utcnow()
    if client is None:
        from security import events

        events.record_refusal(
            events.API_REFUSED, now=now, ip=client_ip(), details={"path": request.path, "status": 401}
        )
        db.session.commit()
        abort(401)
    if scope not in client.scope_list or not api_clients.address_allowed(client, client_ip()):
        from security import events

        events.record_refusal(
            events.API_REFUSED,
            now=now,
            ip=client_ip(),
            details={"path": request.path, "status": 403, "client": client.name},
        )
        db.session.commit()
        abort(403)
    api_clients.mark_used(client, now=now)
    g.api_client = client.name
    return client


# --- rate limits: the console's own counters ------------------------------------------


def login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def submitted_login() -> str:
    body = request.get_json(silent=True)
    login = body.get("login") if isinstance(body, dict) else None
    return login if isinstance(login, str) else ""


def login_name_key() -> str:
    """The per-login key exactly as the console's sign-in forms it: one counter for both."""
    return "login:" + accounts.login_key(submitted_login()[:300])[:150]


def refused(response: Response) -> bool:
    """Only refused credentials count: a service checking many good sign-ins is not held back."""
    return bool(g.get("validation_refused", False))


# --- the operations -------------------------------------------------------------------


# The counters of the console's own sign-in (blueprints/auth.py), by their keys: Flask-Limiter
# names a route's limit "<endpoint>:<scope>", and a shared limit by its scope alone. The API
# and /login thus draw on one counter per login and one per client address.
CONSOLE_ADDRESS_COUNTER = "auth.login:login-address"
CONSOLE_LOGIN_COUNTER = "auth.login:login-name"


@bp.route("/validate", methods=["POST"])
@limiter.shared_limit(login_rate_limit, CONSOLE_ADDRESS_COUNTER, deduct_when=refused)
@limiter.shared_limit(
    login_rate_limit, CONSOLE_LOGIN_COUNTER, key_func=login_name_key, deduct_when=refused
)
@bp.doc(**SECURED)
@bp.arguments(ValidateRequestSchema)
@bp.response(200, ValidateResponseSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
def validate_credentials(body: dict[str, Any]) -> dict[str, str]:
    """Check a login with its password and one-time code, or with an application password.

    The console's own rules apply: the same password check, the same single use of each
    code (spent here, it is spent for the console's sign-in too), the same lock after
    failed codes and the same rate limits. `result` is `accept`, `reject` or `locked`.
    """
    client = calling_client(api_clients.SCOPE_VALIDATE)
    now = utcnow()
    if "app_password" in body:
        verdict = api_validation.validate_app_password(
            body["login"], body["app_password"], now=now, ip=client_ip(), client=client.name
        )
    else:
        verdict = api_validation.validate_password_and_code(
            body["login"],
            body["password"],
            body.get("code"),
            now=now,
            ip=client_ip(),
            client=client.name,
        )
    db.session.commit()
    g.validation_refused = verdict.refused
    return {"result": verdict.result, "reason": verdict.reason}


@bp.route("/users/<string:login>/two-step", methods=["GET"])
@bp.doc(**SECURED)
@bp.response(200, TwoStepSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def user_two_step(login: str) -> dict[str, Any]:
    """A person's two-step state as the user list shows it, the method and its times."""
    calling_client(api_clients.SCOPE_USERS_READ)
    row = reports.row_for_login(login, now=utcnow())
    db.session.commit()
    if row is None:
        abort(404)
    return {
        "login": row.login,
        "state": row.state,
        "method": row.kind,
        "connected_at": row.connected_at,
        "last_used_at": row.last_used_at,
    }


# The readable page is not an operation of the API: a plain blueprint of its own.
pages = FlaskBlueprint("api_pages", __name__, url_prefix=API_PREFIX)


@pages.route("/docs")
def docs() -> str:
    """A readable page of the OpenAPI document, drawn by the console (no scripts)."""
    return render_template("api/docs.html", spec=api.spec.to_dict())


# --- wiring ---------------------------------------------------------------------------


class SessionInterface(SecureCookieSessionInterface):
    """The console's cookie session, never set on an API response."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if is_api_request():
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Attach the API: its document at /api/v1/openapi.json, its operations, no CSRF."""
    app.config.setdefault("API_TITLE", "Two-step authentication console")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)
    api.spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer"})
    csrf.exempt(bp)
    api.register_blueprint(bp)
    app.register_blueprint(pages)
    app.session_interface = SessionInterface()
