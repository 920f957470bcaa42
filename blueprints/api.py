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
from models import utcnow
from security import accounts, api_clients, api_validation, events, reports
from security.two_step import Status
from security.untrusted_text import neutralize
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
    state = fields.String(
        required=True, validate=validate.OneOf([status.value for status in Status])
    )
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


# The scope each operation needs.
REQUIRED_SCOPES = {
    "api.validate_credentials": api_clients.SCOPE_VALIDATE,
    "api.user_two_step": api_clients.SCOPE_USERS_READ,
}


def _refuse(status: int, details: dict[str, object]) -> None:
    events.record_refusal(
        events.API_REFUSED,
        now=utcnow(),
        ip=client_ip(),
        details={"path": request.path[:200], "status": status, **details},
    )
    db.session.commit()
    abort(status)


@bp.before_request
def authenticate_client() -> None:
    """Know the calling client before reading the body: 401 without a live key, 403 for a
    scope or an address it is not given."""
    header = request.headers.get("Authorization", "")
    kind, _, key = header.partition(" ")
    client = api_clients.client_for_key(key.strip()) if kind.lower() == "bearer" else None
    if client is None:
        _refuse(401, {})
        return
    scope = REQUIRED_SCOPES.get(request.endpoint or "")
    if scope not in client.scope_list or not api_clients.address_allowed(client, client_ip()):
        _refuse(403, {"client": client.name})
        return
    api_clients.mark_used(client, now=utcnow())
    g.api_client = client.name


def calling_client() -> str:
    """The name of the client this request came from (authenticate_client checked it)."""
    return str(g.api_client)


# --- rate limits: the console's own counters ------------------------------------------


def login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def submitted_login() -> str:
    body = request.get_json(silent=True)
    login = body.get("login") if isinstance(body, dict) else None
    return login if isinstance(login, str) else ""


def login_name_key() -> str:
    """The per-login key exactly as the console's sign-in forms it: one counter for both."""
    return "login:" + accounts.login_key(submitted_login())[:150]


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
    client = calling_client()
    now = utcnow()
    if "app_password" in body:
        verdict = api_validation.validate_app_password(
            body["login"], body["app_password"], now=now, ip=client_ip(), client=client
        )
    else:
        verdict = api_validation.validate_password_and_code(
            body["login"],
            body["password"],
            body.get("code"),
            now=now,
            ip=client_ip(),
            client=client,
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
    now = utcnow()
    row = reports.row_for_login(login, now=now)
    events.record(
        events.API_USER_READ,
        now=now,
        ip=client_ip(),
        subject_login=row.login if row else neutralize(login, 60),
        outcome=events.SUCCESS if row else events.FAILURE,
        details={"client": calling_client()},
    )
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
