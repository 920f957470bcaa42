"""`flask --app app backup create|restore`: the database and its keys in one encrypted file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from models import utcnow
from security import backup, key_check, keys
from security.backup import BackupError, KeyMaterial
from security.secret_box import SecretBox, load_or_create_keys

backup_cli = AppGroup("backup", help="Encrypted backups of the database and its keys.")

KEY_FILE_HELP = "A file whose first line is the passphrase (keep it apart from the archives)."


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _schema_revision() -> str:
    try:
        return str(db.session.scalar(text("SELECT version_num FROM alembic_version")) or "")
    except SQLAlchemyError:
        db.session.rollback()
        return ""


def _sqlite_file() -> Path | None:
    """The SQLite file the console uses; None on another database."""
    if db.engine.dialect.name != "sqlite":
        return None
    path = backup.sqlite_path(db.engine.url.database)
    if path is None:
        raise BackupError("the database is in memory: there is nothing to back up")
    return path


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--passphrase-file", required=True, type=click.Path(path_type=Path), help=KEY_FILE_HELP
)
def backup_create_command(file: Path, passphrase_file: Path) -> None:
    """Write FILE: the database (SQLite, copied while the console serves) and its keys,
    encrypted with the passphrase. On PostgreSQL the database is left to pg_dump."""
    app = _app()
    try:
        passphrase = backup.read_passphrase(passphrase_file)
        database_file = _sqlite_file()
        material = KeyMaterial(
            encryption_keys=keys.encryption_keys(),
            recovery_key_hex=keys.recovery_key().hex(),
            secret_key=str(app.config["SECRET_KEY"]),
        )
        revision = _schema_revision()
        db.session.remove()
        archive = backup.build_archive(
            keys=material,
            now=utcnow(),
            database_kind=db.engine.dialect.name,
            database_file=database_file,
            schema_revision=revision,
        )
        backup.write_private(file, backup.seal(archive, passphrase))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {file}: {error.strerror}") from None
    if len(passphrase) < backup.MIN_PASSPHRASE:
        click.echo(
            f"warning: the passphrase is shorter than {backup.MIN_PASSPHRASE} characters; "
            "the archive holds every key of the console",
            err=True,
        )
    if database_file is None:
        click.echo(
            f"wrote {file}: the keys only. This console uses {db.engine.dialect.name}: back up "
            "the database itself with pg_dump at the same time (pg_dump -Fc -f console.dump "
            "DBNAME), and keep both together"
        )
    else:
        click.echo(f"wrote {file}: the database {database_file} and its keys, encrypted")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--passphrase-file", required=True, type=click.Path(path_type=Path), help=KEY_FILE_HELP
)
@click.option("--force", is_flag=True, help="Replace a database that holds users.")
def backup_restore_command(file: Path, passphrase_file: Path, force: bool) -> None:
    """Put back the database (SQLite) and the keys from FILE, and check that they work.

    Stop the console first; start it again afterwards.
    """
    app = _app()
    instance = Path(app.instance_path)
    try:
        opened = backup.open_archive(file.read_bytes(), backup.read_passphrase(passphrase_file))
        if opened.database is None:
            lines = _restore_keys_only(opened, instance)
        else:
            lines = _restore_database_and_keys(opened, opened.database, instance, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot restore: {error}") from None
    for line in lines:
        click.echo(line)
    for warning in _overridden_settings(app, opened.keys):
        click.echo(f"warning: {warning}", err=True)


def _stamp() -> str:
    return utcnow().strftime("%Y%m%d%H%M%S")


def _restore_database_and_keys(
    opened: backup.OpenedArchive, database: bytes, instance: Path, *, force: bool
) -> list[str]:
    target = _sqlite_file()
    if target is None:
        raise BackupError(
            f"the archive holds a SQLite database and this console uses "
            f"{db.engine.dialect.name}: restore it on a console that uses SQLite"
        )
    db.session.remove()
    users_now = backup.sqlite_users(target)
    if users_now and not force:
        raise BackupError(
            f"the database {target} holds {users_now} users: nothing restored; "
            "add --force to replace it"
        )
    with backup.unpacked_database(database) as copy:
        expected = backup.database_facts(copy, SecretBox(opened.keys.encryption_keys))
        if expected.devices and not expected.secrets_opened:
            raise BackupError("the archive's keys open none of its secrets: nothing restored")
        # No connection of this process may hold the file while its pages are replaced.
        db.engine.dispose()
        kept = backup.write_keys(instance, opened.keys, stamp=_stamp())
        backup.restore_sqlite(copy, target)
    restored_keys = load_or_create_keys(instance / backup.KEY_FILES["otp_keys"])
    found = backup.database_facts(target, SecretBox(restored_keys))
    if found != expected:
        raise BackupError(
            f"the restored database does not check out: expected {expected}, found {found}"
        )
    lines = [
        f"restored {target} from the backup of {opened.manifest.get('created_at')}: "
        f"{found.users} users, {found.devices} devices",
        f"the restored keys open {found.secrets_opened} of {found.devices} stored secrets",
    ]
    if kept:
        lines.append(f"the keys found before are kept beside them: {', '.join(kept)}")
    lines.append(
        "next: flask --app app db upgrade (when the backup is from an older version), "
        "then start the console"
    )
    return lines


def _restore_keys_only(opened: backup.OpenedArchive, instance: Path) -> list[str]:
    """An archive made on PostgreSQL: the database comes back through pg_restore; here the
    keys are checked against it and put back."""
    check = key_check.check_keys(box=SecretBox(opened.keys.encryption_keys))
    if check.keys_are_wrong:
        raise BackupError(
            f"the archive's keys open none of the {check.devices} secrets in the database: "
            "restore the database from the dump made with this archive first; nothing restored"
        )
    db.session.remove()
    kept = backup.write_keys(instance, opened.keys, stamp=_stamp())
    lines = [
        f"restored the keys from the backup of {opened.manifest.get('created_at')} "
        f"(the database is restored with pg_restore)",
        f"the restored keys open {check.opened} of {check.devices} stored secrets",
    ]
    if kept:
        lines.append(f"the keys found before are kept beside them: {', '.join(kept)}")
    return lines


def _overridden_settings(app: Flask, restored: KeyMaterial) -> list[str]:
    """Settings that would win over the restored key files when the console starts."""
    warnings = []
    if str(app.config.get("OTP_KEYS_SOURCE", "")).startswith("FLASK_") and (
        keys.encryption_keys() != restored.encryption_keys
    ):
        warnings.append(
            "FLASK_OTP_ENCRYPTION_KEYS is set and is not the restored keys: set it to the "
            "content of instance/otp_keys, or unset it"
        )
    if (
        app.config.get("RECOVERY_CODE_KEY")
        and keys.recovery_key().hex() != restored.recovery_key_hex
    ):
        warnings.append(
            "FLASK_RECOVERY_CODE_KEY is set and is not the restored key: set it to the content "
            "of instance/recovery_key, or unset it"
        )
    return warnings
