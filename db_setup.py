"""The database's set-up at start: SQLite's files and pragmas, and `flask db` on demand."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import click
from flask import Flask, g
from flask.cli import with_appcontext
from sqlalchemy import event

from extensions import db


def init_database(app: Flask) -> None:
    """Attach the database; on SQLite keep its files private and tune each connection."""
    db.init_app(app)
    register_migrations(app)
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
