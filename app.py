"""Application factory: `flask --app app …` and `gunicorn 'app:create_app()'` call create_app()."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import click
from flask import Flask, Response, g, request
from flask.cli import with_appcontext
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

import config
from extensions import csrf, db, limiter, login_manager

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


class DatabaseIntConverter(IntegerConverter):
    """`<int:…>` limited to what an integer column holds: a larger id is a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class PathTextConverter(UnicodeConverter):
    """`<name>`: one segment of at most 200 characters without control characters, or a 404.

    A path value goes on to the database like a query value: PostgreSQL refuses NUL in
    text, and no id, session or form name of the console holds a control character.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maxlength", 200)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> str:
        from security.untrusted_text import has_control_characters

        if has_control_characters(value):
            raise ValidationError()
        return value


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
    app.url_map.converters["int"] = DatabaseIntConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = PathTextConverter
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_commands(app)
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
    db.init_app(app)
    register_migrations(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    # The server-side session record replaces Flask-Login's IP/agent heuristics.
    login_manager.session_protection = None
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _keep_sqlite_files_private(app, db.engine.url.database)
            synchronous = str(app.config["SQLITE_SYNCHRONOUS"]).upper()
            event.listen(db.engine, "connect", partial(_tune_sqlite, synchronous=synchronous))


def register_migrations(app: Flask) -> None:
    """Offer `flask db …` (Flask-Migrate) without importing it until it is used.

    Flask-Migrate brings Alembic and Mako: about 11 MB in every gunicorn worker, which
    never migrates. The `db` group here takes Flask-Migrate's own options and hands its
    subcommands over; app.extensions["migrate"] is built on first use, also for code
    that calls flask_migrate.upgrade() directly.
    """
    app.extensions["migrate"] = _LazyMigrateConfig(app)

    @click.group("db", cls=_LazyMigrateGroup)
    @click.option(
        "-d",
        "--directory",
        default=None,
        help='Migration script directory (default is "migrations")',
    )
    @click.option(
        "-x",
        "--x-arg",
        multiple=True,
        help="Additional arguments consumed by custom env.py scripts",
    )
    @with_appcontext
    def migration_commands(directory: str | None, x_arg: tuple[str, ...]) -> None:
        """Perform database migrations."""
        # As Flask-Migrate's own group: its commands read these.
        g.directory = directory
        g.x_arg = x_arg

    migration_commands.app = app
    app.cli.add_command(migration_commands)


def _load_migrate(app: Flask) -> Any:
    """Initialise Flask-Migrate for the app (once); return its config object."""
    current = app.extensions.get("migrate")
    if current is not None and not isinstance(current, _LazyMigrateConfig):
        return current
    from flask_migrate import Migrate

    Migrate(
        app,
        db,
        directory=str(app.root_path) + "/migrations",
        render_as_batch=True,
        compare_type=True,
    )
    return app.extensions["migrate"]


class _LazyMigrateConfig:
    """Stands for Flask-Migrate's config object until something reads it."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(_load_migrate(self._app), name)


class _LazyMigrateGroup(click.Group):
    """`flask db`: Flask-Migrate's subcommands, imported when the group is used."""

    app: Flask

    def _real(self) -> click.Group:
        _load_migrate(self.app)
        from flask_migrate.cli import db as real

        return real

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


def _keep_sqlite_files_private(app: Flask, database: str | None) -> None:
    """Create the SQLite file readable by its owner only (0600), as the key files are.

    SQLite creates the -wal and -shm files (and a rollback journal) with the mode of the
    database file, so they follow it. Files left wider by an earlier start are narrowed.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return  # in memory, or a URI whose file SQLite opens itself
    path = Path(database)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except FileNotFoundError:
        return  # no such directory: SQLite says so on the first connection
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if name.stat().st_mode & 0o077:
                name.chmod(0o600)
        except FileNotFoundError:
            continue
        except PermissionError:
            app.logger.warning("%s is readable by others and cannot be narrowed to 0600", name)


def _tune_sqlite(dbapi_connection: Any, _record: Any, *, synchronous: str = "FULL") -> None:
    # WAL lets readers run while one writer writes; the busy timeout makes a
    # second writer wait instead of failing; foreign keys are off by default.
    # synchronous: see SQLITE_SYNCHRONOUS in config.py (checked there: FULL, EXTRA, NORMAL).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def register_blueprints(app: Flask) -> None:
    from blueprints import admin, auth, form_bodies, health, mypage, signin_session

    app.register_blueprint(auth.bp)
    app.register_blueprint(mypage.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(health.bp)
    app.before_request(form_bodies.require_form_body)
    app.before_request(signin_session.enforce_sign_in_state)


def register_error_handlers(app: Flask) -> None:
    from blueprints import errors, filters

    errors.register(app)
    filters.register(app)


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


def register_commands(app: Flask) -> None:
    import commands

    commands.register(app)
