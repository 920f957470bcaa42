"""Application factory: `flask --app app …` and `gunicorn 'app:create_app()'` call create_app()."""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

import config
from db_setup import init_database
from extensions import csrf, limiter, login_manager
from web import i18n
from web.routing import register_converters

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the console: settings, extensions, blueprints, errors, headers, commands."""
    # FLASK_INSTANCE_PATH moves instance/ (keys, SQLite file) elsewhere, e.g. for test servers.
    instance_path = (test_config or {}).pop("INSTANCE_PATH", None) or os.environ.get(
        "FLASK_INSTANCE_PATH"
    )
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    config.load(app, test_config)
    register_proxy_fix(app)
    register_extensions(app)
    register_monitoring(app)
    i18n.init_app(app)
    register_converters(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_commands(app)
    refuse_keys_that_open_nothing(app)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    app.jinja_env.add_extension("jinja2.ext.do")
    return app


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* from as many proxies as configured (none by default)."""
    hops = {
        name: app.config[f"PROXY_FIX_X_{name.upper()}"]
        for name in ("for", "proto", "host", "port", "prefix")
    }
    if any(hops.values()):
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=hops["for"],
            x_proto=hops["proto"],
            x_host=hops["host"],
            x_port=hops["port"],
            x_prefix=hops["prefix"],
        )


def register_extensions(app: Flask) -> None:
    from security import passwords

    passwords.configure(
        app.config["PASSWORD_ARGON2_TIME_COST"],
        app.config["PASSWORD_ARGON2_MEMORY_KIB"],
        app.config["PASSWORD_ARGON2_PARALLELISM"],
    )
    init_database(app)
    from web import form_bodies

    app.before_request(form_bodies.allow_uploads)  # before the CSRF check reads the body
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    # The server-side session record replaces Flask-Login's IP/agent heuristics.
    login_manager.session_protection = None


def register_monitoring(app: Flask) -> None:
    """Metrics for Prometheus, and the security events to syslog when configured."""
    from web import metrics, syslog_forwarder

    metrics.init_app(app)
    syslog_forwarder.configure(
        app.config["SYSLOG_ADDRESS"],
        ca_file=app.config["SYSLOG_CA_FILE"] or None,
        dropped=metrics.count_syslog_dropped,
    )


def register_blueprints(app: Flask) -> None:
    from blueprints import admin, api, auth, health, metrics, mypage
    from web import form_bodies, signin_session

    app.register_blueprint(auth.bp)
    app.register_blueprint(mypage.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(health.bp)
    api.init_app(app)
    app.register_blueprint(metrics.bp)
    app.before_request(form_bodies.require_form_body)
    app.before_request(signin_session.enforce_sign_in_state)


def register_error_handlers(app: Flask) -> None:
    from web import errors, filters, notice_text

    errors.register(app)
    filters.register(app)
    notice_text.register(app)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            # Pages show personal data; no shared cache should keep them.
            headers.setdefault("Cache-Control", "no-store")
        return response


def refuse_keys_that_open_nothing(app: Flask) -> None:
    """Stop a serving console whose keys open none of the stored secrets, in one line.

    Started with wrong or lost keys, the console would serve and fail every sign-in with
    a device. Commands other than `flask run` start without the check: `otp check-keys`
    and `backup restore` are how the keys are found and put back, and `db upgrade` runs
    on an empty database. The tests' app factory (TESTING) is left alone too.
    """
    if app.testing or not _serving():
        return
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from extensions import db
    from security import key_check

    with app.app_context():
        try:
            if not inspect(db.engine).has_table("otp_devices"):
                return
            result = key_check.check_keys(sample=key_check.START_SAMPLE)
        except SQLAlchemyError:
            # The database is away: /readyz reports it; the keys are checked when it answers.
            return
        finally:
            db.session.remove()
    if result.keys_are_wrong:
        line = key_check.refusal_line(result, str(app.config["OTP_KEYS_SOURCE"]))
        if "gunicorn.arbiter" in sys.modules:
            # A gunicorn worker: this exit status makes the master stop ("Worker failed
            # to boot") instead of starting new workers that would fail the same way.
            from gunicorn.arbiter import Arbiter

            print(line, file=sys.stderr)
            raise SystemExit(Arbiter.WORKER_BOOT_ERROR)
        raise SystemExit(line)


def _serving() -> bool:
    """Tell a server (gunicorn, `flask run`) from another command of the Flask CLI."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return True
    import click

    context = click.get_current_context(silent=True)
    return context is not None and context.info_name == "run"


def register_commands(app: Flask) -> None:
    import commands

    commands.register(app)
