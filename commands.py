"""Command line: `flask --app app users …` (and, later, `otp …`)."""

from __future__ import annotations

import os
import secrets

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from extensions import db
from models import ADMINISTRATORS_GROUP_ID, User, user_groups, utcnow
from security import two_step
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
    db.session.commit()
    click.echo(f"Re-encrypted {rotated} of {total} secrets under the newest key.")


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(otp_cli)
    from dev_commands import dev_cli, translations_cli

    app.cli.add_command(dev_cli)
    app.cli.add_command(translations_cli)
