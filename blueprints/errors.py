"""Plain error pages: no stack trace ever reaches a browser."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from blueprints.signin_session import client_ip
from extensions import db
from models import utcnow
from security import events
from security.messages import message

TITLES = {
    400: "Bad request",
    403: "Access denied",
    404: "Page not found",
    405: "Method not allowed",
    413: "Request too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}
EXPLANATIONS = {
    400: "The request could not be understood.",
    403: message("access.denied"),
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request.",
    413: "The request is larger than the console accepts.",
    429: message("login.rate_limited"),
    500: "The console could not finish this request. Nothing was changed.",
    503: "The database does not answer right now. Try again in a moment.",
}


def render_error(status: int, explanation: str | None = None) -> tuple[str, int]:
    """Render the plain error page for a status."""
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=TITLES.get(status, "Error"),
            explanation=explanation or EXPLANATIONS.get(status, ""),
        ),
        status,
    )


def register(app: Flask) -> None:
    """Attach the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(400, message("form.expired"))

    @app.errorhandler(429)
    def too_many_requests(error: HTTPException) -> tuple[str, int]:
        db.session.rollback()
        events.record(
            events.RATE_LIMITED,
            now=utcnow(),
            ip=client_ip(),
            subject_login=request.form.get("login", "")[:60] if request.form else "",
            outcome=events.REFUSED,
            details={"path": request.path},
        )
        db.session.commit()
        return render_error(429)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        if status == 403 and current_user.is_authenticated:
            db.session.rollback()
            events.record(
                events.ACCESS_DENIED,
                now=utcnow(),
                ip=client_ip(),
                actor=current_user,
                outcome=events.REFUSED,
                details={"path": request.path, "method": request.method},
            )
            db.session.commit()
        custom = error.description if error.description != type(error).description else None
        return render_error(status, custom)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str, int]:
        db.session.rollback()
        app.logger.warning("database error: %s", type(error.orig).__name__)
        return render_error(503)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
