"""Command line: `flask --app app users …`, `otp …`, `notify …`, `tokens …`, `maintenance …`
and `directory …`."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from extensions import db
from integrations import mail
from models import ADMINISTRATORS_GROUP_ID, OutgoingMail, User, user_groups, utcnow
from security import mail_outbox, notices, token_inventory, two_step
from security.accounts import AccountError, Profile, create_user, find_by_login
from security.otp_settings import load_settings

users_cli = AppGroup("users", help="Manage console users.")


@users_cli.command("create")
@click.argument("login")
@click.option("--password", required=True, help="The new user's password.")
@click.option("--email", default="", help="E-mail address.")
@click.option("--name", default="", help="First name.")
@click.option("--last-name", default="", help="Last name.")
@click.option("--admin", is_flag=True, help="Put the user in the Administrators group.")
def create_user_command(
    login: str, password: str, email: str, name: str, last_name: str, admin: bool
) -> None:
    """Create a user (in Administrators with --admin)."""
    try:
        user = create_user(
            login,
            password,
            now=utcnow(),
            profile=Profile(email=email, name=name, last_name=last_name),
            group_ids=[ADMINISTRATORS_GROUP_ID] if admin else [],
            ip="cli",
        )
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(error.text) from None
    db.session.commit()
    click.echo(f"Created user {user.login} (id {user.id}).")


@users_cli.command("ensure-admin")
def ensure_admin_command() -> None:
    """Create the first administrator `admin` when no administrator exists yet.

    The password is ADMIN_PASSWORD when set, otherwise a random one printed once.
    """
    has_admin = db.session.scalar(
        select(user_groups.c.user_id)
        .where(user_groups.c.group_id == ADMINISTRATORS_GROUP_ID)
        .limit(1)
    )
    if has_admin is not None:
        click.echo("An administrator exists already.")
        return
    create_one = "Create one with: flask --app app users create LOGIN --password PW --admin"
    if find_by_login("admin") is not None:
        # Exit 0 so that `make run` still serves; the operator is told what to do.
        click.echo(
            "No administrator exists, and the login admin belongs to a user who is not one. "
            + create_one
        )
        return
    given = os.environ.get("ADMIN_PASSWORD", "")
    password = given or secrets.token_urlsafe(12)
    try:
        user = create_user(
            "admin", password, now=utcnow(), group_ids=[ADMINISTRATORS_GROUP_ID], ip="cli"
        )
    except AccountError as error:
        db.session.rollback()
        if error.key == "user.login_confusable":
            click.echo(f"No administrator exists, and admin is refused: {error.text} {create_one}")
            return
        raise click.ClickException(error.text) from None
    db.session.commit()
    if given:
        click.echo(f"Created administrator {user.login} with the password from ADMIN_PASSWORD.")
    else:
        click.echo(
            f"Created administrator {user.login}. Password (shown only this once): {password}"
        )


otp_cli = AppGroup("otp", help="Two-step authentication, for emergencies and maintenance.")


def _user_or_fail(login: str) -> User:
    user = find_by_login(login)
    if user is None:
        raise click.ClickException(f"no user with the login {login!r}")
    return user


@otp_cli.command("status")
@click.argument("login")
def otp_status_command(login: str) -> None:
    """Print the user's two-step state in one line."""
    user = _user_or_fail(login)
    click.echo(two_step.describe(user, now=utcnow(), settings=load_settings()))


@otp_cli.command("disable")
@click.argument("login")
@click.option(
    "--days",
    type=click.IntRange(0, two_step.MAX_DISABLE_DAYS),
    default=0,
    help="Switch it back on by itself after N days (0: until re-enabled).",
)
def otp_disable_command(login: str, days: int) -> None:
    """Switch off a locked-out user's two-step authentication (recorded as an event)."""
    user = _user_or_fail(login)
    try:
        until = two_step.disable(
            user, days=days, now=utcnow(), actor=None, ip="cli", settings=load_settings()
        )
    except two_step.TwoStepError as error:
        db.session.rollback()
        raise click.ClickException(error.text) from None
    db.session.commit()
    when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until it is enabled again"
    click.echo(f"Two-step authentication of {user.login} is disabled {when}.")


@otp_cli.command("rotate-keys")
def otp_rotate_keys_command() -> None:
    """Re-encrypt every OTP secret under the newest key of FLASK_OTP_ENCRYPTION_KEYS."""
    rotated, total = two_step.rotate_secrets()
    # The inventory's token seeds are secrets of the same kind, under the same keys.
    seeds_rotated, seeds = token_inventory.rotate_seeds()
    rotated, total = rotated + seeds_rotated, total + seeds
    db.session.commit()
    click.echo(f"Re-encrypted {rotated} of {total} secrets under the newest key.")


@otp_cli.command("check-keys")
def otp_check_keys_command() -> None:
    """Report how many stored secrets each key opens; fail when devices exist and none opens."""
    from security import key_check

    result = key_check.check_keys()
    source = str(current_app.config["OTP_KEYS_SOURCE"])
    click.echo(f"{result.devices} stored secrets; keys from {source}")
    for position, opened in enumerate(result.opened_by, start=1):
        role = "newest, encrypts" if position == 1 else "decrypts only"
        click.echo(f"key {position} ({role}): opens {opened} secrets")
    if result.keys_are_wrong:
        raise click.ClickException(key_check.refusal_line(result, source))
    if result.unreadable:
        click.echo(
            f"warning: {result.unreadable} secrets open with no key: those users cannot sign "
            "in with their device until the key that encrypted them is added"
        )


notify_cli = AppGroup("notify", help="Notices: their e-mails and the grace reminders.")

NO_MAIL_SERVER = "no mail server: notices stay on My page"


def _mail_in_words(app: Flask) -> Callable[[OutgoingMail], mail.RenderedMail]:
    """Each e-mail in its recipient's language, its link to the console's public address."""
    from web.notice_text import render_mail

    public_url = str(app.config["PUBLIC_URL"])
    return lambda outgoing: render_mail(outgoing, public_url=public_url)


def _notify_round(
    server: mail.MailServer | None,
    render: Callable[[OutgoingMail], mail.RenderedMail],
    stopping: Callable[[], bool] = lambda: False,
) -> tuple[mail_outbox.SendSummary, int]:
    """Create the reminders due now, then send what is due (the reminders among it)."""
    now = utcnow()
    reminders = notices.create_due_reminders(now)
    if server is None:
        return mail_outbox.SendSummary(), reminders
    summary = mail_outbox.send_due(now, server=server, render=render, stopping=stopping)
    return summary, reminders


def _summary_line(summary: mail_outbox.SendSummary, reminders: int) -> str:
    return (
        f"sent {summary.sent}, retried {summary.retried}, failed {summary.failed}, "
        f"reminders {reminders}"
    )


class _StopSignals:
    """SIGTERM and SIGINT ask the loop to stop after the message in hand; a second one of
    either acts as it normally would (a second Ctrl-C interrupts at once)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        for number in self.SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._restore()

    def _handle(self, _number: int, _frame: FrameType | None) -> None:
        self.requested = True
        self._restore()

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def sleep(self, seconds: float) -> None:
        """Wait between rounds, waking early when asked to stop."""
        end = time.monotonic() + seconds
        while not self.requested and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.2))


@notify_cli.command("send")
@click.option("--once", is_flag=True, help="Do one round (reminders, then mail) and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between rounds.",
)
def notify_send_command(once: bool, interval: float) -> None:
    """Send due notices by e-mail and create due grace reminders, until stopped.

    Once a day (and when it starts) it also runs `maintenance prune`. Several senders,
    on one host or several, may run at once: each message is sent once.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    server = mail.mail_server_from(app.config)
    render = _mail_in_words(app)
    if server is None:
        click.echo(NO_MAIL_SERVER)
    if once:
        click.echo(_summary_line(*_notify_round(server, render)))
        return
    where = f" through {server.host}:{server.port}" if server else ""
    click.echo(f"sending notices{where} every {interval:g} s; stop with SIGTERM or Ctrl-C")
    next_prune = time.monotonic()
    with _StopSignals() as signals:
        while not signals.requested:
            try:
                if time.monotonic() >= next_prune:
                    click.echo(_prune(app, lambda: signals.requested))
                    next_prune = time.monotonic() + PRUNE_INTERVAL_SECONDS
                summary, reminders = _notify_round(server, render, lambda: signals.requested)
            except SQLAlchemyError as error:
                # The database is away: try again next round, as the web workers do.
                db.session.rollback()
                click.echo(f"database error, trying again: {type(error).__name__}", err=True)
                signals.sleep(interval)
                continue
            if summary.handled or reminders:
                click.echo(_summary_line(summary, reminders))
            # A full batch: more may be due, so go on at once.
            if summary.handled < mail_outbox.DEFAULT_BATCH:
                signals.sleep(interval)
    click.echo("stopped")


tokens_cli = AppGroup("tokens", help="The hardware token inventory.")


@tokens_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--password", default="", help="The password of a PSKC file (PBKDF2).")
@click.option("--key", "key_hex", default="", help="The pre-shared AES key of a PSKC file, in hex.")
def tokens_import_command(file: Any, password: str, key_hex: str) -> None:
    """Import hardware token seeds from a PSKC (RFC 6030) or CSV file: all of them, or none."""
    if password and key_hex:
        raise click.UsageError("give --password or --key, not both")
    data = file.read(token_inventory.MAX_FILE_BYTES + 1)
    try:
        count = token_inventory.import_file(
            data, password=password, key_hex=key_hex, now=utcnow(), actor=None, ip="cli"
        )
    except token_inventory.ImportRefused as refused:
        db.session.commit()  # the refusal's event, and nothing else
        for problem in refused.problems:
            click.echo(problem, err=True)
        raise click.ClickException("nothing imported") from None
    db.session.commit()
    click.echo(f"imported {count} tokens")


maintenance_cli = AppGroup("maintenance", help="Housekeeping of the database.")

# The notice sender prunes once a day (and once when it starts).
PRUNE_INTERVAL_SECONDS = 24 * 60 * 60


def _prune(app: Flask, stopping: Callable[[], bool] = lambda: False) -> str:
    """Run the retention rules now; return the summary line."""
    from security import retention
    from web.signin_session import session_limits

    def between_batches() -> None:
        if stopping():
            raise _PruneStopped

    try:
        summary = retention.prune(
            utcnow(),
            retention_days=int(app.config["EVENT_RETENTION_DAYS"]),
            session_limits=session_limits(),
            between_batches=between_batches,
        )
    except _PruneStopped:
        return "pruning stopped; the rest goes next time"
    return f"removed {summary.line()}"


class _PruneStopped(Exception):
    """Asked to stop between two batches."""


@maintenance_cli.command("prune")
def maintenance_prune_command() -> None:
    """Remove expired sessions, remembered computers, pending sign-ins and connections, and
    events, read notices and sent e-mails older than FLASK_EVENT_RETENTION_DAYS."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(_prune(app))


directory_cli = AppGroup("directory", help="The company directory (LDAP, Active Directory).")


@directory_cli.command("sync")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
def directory_sync_command(dry_run: bool) -> None:
    """Bring users and group membership from the directory; print the summary."""
    from integrations.ldap import DirectoryError
    from security import directory

    try:
        summary = directory.synchronise(now=utcnow(), actor=None, ip="cli", dry_run=dry_run)
    except directory.DirectoryRefusal as error:
        db.session.rollback()
        raise click.ClickException(error.text) from None
    except DirectoryError as error:
        db.session.rollback()
        raise click.ClickException(f"the directory cannot be read: {error}") from None
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for error_text in directory.summary_errors(summary):
        click.echo(f"error: {error_text}", err=True)
    click.echo(("dry run, nothing changed: " if dry_run else "") + summary.line())


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(otp_cli)
    app.cli.add_command(notify_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(maintenance_cli)
    from backup_commands import backup_cli

    app.cli.add_command(backup_cli)
    app.cli.add_command(directory_cli)
    from dev_commands import dev_cli, translations_cli

    app.cli.add_command(dev_cli)
    app.cli.add_command(translations_cli)
