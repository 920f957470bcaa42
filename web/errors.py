"""Plain error pages: no stack trace ever reaches a browser."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from extensions import db, login_manager
from models import utcnow
from security import events
from security.messages import message
from web.api_problems import is_api_request, problem
from web.signin_session import client_ip

# The catalog keys of each status's title and explanation, read per request.
TITLES = {
    400: "error.title.400",
    403: "error.title.403",
    404: "error.title.404",
    405: "error.title.405",
    413: "error.title.413",
    415: "error.title.415",
    429: "error.title.429",
    500: "error.title.500",
    503: "error.title.503",
}
EXPLANATIONS = {
    400: "error.explanation.400",
    403: "access.denied",
    404: "error.explanation.404",
    405: "error.explanation.405",
    413: "error.explanation.413",
    415: "request.form_only",
    429: "login.rate_limited",
    500: "error.explanation.500",
    503: "error.explanation.503",
}


def _form_page_url() -> str | None:
    """Return this address when it also shows a form on GET (to open it afresh)."""
    if request.method != "POST":
        return None
    try:
        current_app.url_map.bind("localhost").match(request.path, method="GET")
    except HTTPException:
        return None
    return request.full_path.rstrip("?")


def render_error(status: int, explanation: str | None = None) -> tuple[str, int]:
    """Render the plain error page for a status (the API's errors: see `answer_error`)."""
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=message(TITLES.get(status, "error.title.other")),
            explanation=explanation
            or (message(EXPLANATIONS[status]) if status in EXPLANATIONS else ""),
            retry_url=_form_page_url() if status in (400, 429) else None,
        ),
        status,
    )


ErrorAnswer = tuple[str, int] | tuple[Response, int]


def answer_error(status: int) -> ErrorAnswer:
    """The plain error page, or for the API a problem document (web.api_problems)."""
    if is_api_request():
        return problem(status), status
    return render_error(status)


def _api_error(error: HTTPException, status: int) -> tuple[Response, int]:
    """An API error as a problem document, without asking who is signed in (the API has no
    sessions and sets no cookie). A body that is not JSON is as malformed as one that does
    not match the schema: both are 422."""
    data = getattr(error, "data", None)
    messages = data.get("messages") if isinstance(data, dict) else None
    if status == 400:
        status = 422
    return problem(status, errors=messages), status


def register(app: Flask) -> None:
    """Attach the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ErrorAnswer:
        if is_api_request():
            return problem(422), 422
        return render_error(400, message("form.expired"))

    @app.errorhandler(429)
    def too_many_requests(error: HTTPException) -> ErrorAnswer:
        db.session.rollback()
        events.record_refusal(
            events.RATE_LIMITED,
            now=utcnow(),
            ip=client_ip(),
            subject_login=request.form.get("login", "")[:60] if request.form else "",
            details={"path": request.path},
        )
        db.session.commit()
        return answer_error(429)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ErrorAnswer:
        status = error.code or 500
        if is_api_request():
            return _api_error(error, status)
        if status == 403 and current_user.is_authenticated:
            db.session.rollback()
            events.record_refusal(
                events.ACCESS_DENIED,
                now=utcnow(),
                ip=client_ip(),
                actor=current_user,
                details={"path": request.path, "method": request.method},
            )
            db.session.commit()
        custom = error.description if error.description != type(error).description else None
        return render_error(status, custom)

    def database_unavailable(error: Exception) -> ErrorAnswer:
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - a dead connection may refuse even the rollback
            db.session.remove()
        # The page must not ask the database who is signed in: the failure may have come
        # from Flask-Login's user loader, and asking again would turn the 503 into a 500.
        g._login_user = login_manager.anonymous_user()
        cause = getattr(error, "orig", None) or error
        app.logger.warning("database unavailable: %s", type(cause).__name__)
        return answer_error(503)

    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
    app.register_error_handler(PoolTimeoutError, database_unavailable)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> ErrorAnswer:
        # A connection lost mid-statement is an outage; anything else is a bug (500).
        if error.connection_invalidated:
            return database_unavailable(error)
        return unexpected_error(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ErrorAnswer:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return answer_error(500)
