"""Development and benchmark commands: `flask --app app dev …`.

Nothing here is needed in production. `seed-users` fills a database with many users
quickly (Core bulk inserts, one password hash for all), for load tests and the
benchmark in bench/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import click
from babel.messages.catalog import Catalog
from flask.cli import AppGroup
from sqlalchemy import func, insert, literal, select

from extensions import db
from models import EMPLOYEES_GROUP_ID, OtpDevice, TwoStepAccount, User, user_groups, utcnow
from security import keys, otp
from security.accounts import login_key, login_skeleton
from security.passwords import hash_password

dev_cli = AppGroup("dev", help="Development helpers: seed data for load tests and benchmarks.")

SEED_LOGIN_PREFIX = "user"
SEED_PASSWORD = "seeded password"  # noqa: S105 - documented development password
# Rows per INSERT batch: SQLite accepts 32,766 bound values per statement.
BATCH = 2_000
FIRST_NAMES = ("Anna", "Boris", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jana")
LAST_NAMES = ("Novak", "Horvat", "Kowalski", "Schmidt", "Rossi", "Dubois", "Silva", "Ito")


def seed_login(number: int) -> str:
    """Return the login of the seeded user with this number: user000001, user000002, …"""
    return f"{SEED_LOGIN_PREFIX}{number:06d}"


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dev_cli.command("seed-users")
@click.argument("count", type=click.IntRange(1, 10_000_000))
@click.option("--password", default=SEED_PASSWORD, show_default=True, help="Everyone's password.")
@click.option(
    "--with-otp",
    "otp_fraction",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    help="Share of the new users given a connected device (random secret), e.g. 0.5.",
)
@click.option(
    "--otp-type",
    type=click.Choice(["totp", "hotp"]),
    default="totp",
    show_default=True,
    help="Kind of the seeded devices.",
)
def seed_users_command(count: int, password: str, otp_fraction: float, otp_type: str) -> None:
    """Add COUNT users (logins user000001, …) to group Employees, in bulk.

    Logins continue after the highest seeded number, so running it twice adds more.
    With --with-otp, a share of them get a device: of those, one in twenty is
    switched off by an administrator and one in fifty is locked; of the users
    without a device, one in ten has a grace deadline (pending or overdue).
    """
    started = time.perf_counter()
    now = utcnow()
    # One argon2 hash for everyone: hashing 100,000 passwords would take hours.
    password_hash = hash_password(password)
    prefix_len = len(SEED_LOGIN_PREFIX)
    seeded_logins = select(func.max(User.login_key)).where(
        User.login_key.like(f"{SEED_LOGIN_PREFIX}______"),
        func.length(User.login_key) == prefix_len + 6,
    )
    highest = db.session.scalar(seeded_logins)
    first = int(highest[prefix_len:]) + 1 if highest and highest[prefix_len:].isdigit() else 1
    max_id_before = db.session.scalar(select(func.coalesce(func.max(User.id), 0))) or 0

    def user_rows() -> Iterator[dict[str, Any]]:
        for number in range(first, first + count):
            login = seed_login(number)
            yield {
                "login": login,
                "login_key": login_key(login),
                "login_skeleton": login_skeleton(login),
                "email": f"{login}@example.test",
                "name": FIRST_NAMES[number % len(FIRST_NAMES)],
                "last_name": LAST_NAMES[number % len(LAST_NAMES)],
                "active": number % 100 != 0,  # one in a hundred is blocked
                "password_hash": password_hash,
                "created_at": now,
            }

    connection = db.session.connection()
    for batch in _batches(user_rows(), BATCH):
        connection.execute(insert(User), batch)
    connection.execute(
        insert(user_groups).from_select(
            ["user_id", "group_id"],
            select(User.id, literal(EMPLOYEES_GROUP_ID)).where(User.id > max_id_before),
        )
    )
    devices = accounts = 0
    if otp_fraction > 0:
        devices, accounts = _seed_two_step(max_id_before, otp_fraction, otp_type, now)
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded {count} users ({seed_login(first)} to {seed_login(first + count - 1)}), "
        f"{devices} devices, {accounts} two-step records in {elapsed:.1f} s."
    )


def _seed_two_step(max_id_before: int, fraction: float, kind: str, now: Any) -> tuple[int, int]:
    """Give a share of the new users a device, and some a lock or a grace deadline."""
    box = keys.secret_box()
    ids = list(db.session.scalars(select(User.id).where(User.id > max_id_before).order_by(User.id)))
    step = 1 / fraction
    chosen: set[int] = {ids[int(index * step)] for index in range(int(len(ids) * fraction))}
    params = otp.OtpParams(kind="totp" if kind == "totp" else "hotp")
    device_rows = []
    account_rows = []
    for position, user_id in enumerate(ids):
        if user_id in chosen:
            # Counted among the devices, not among all users: with --with-otp 0.5 every
            # chosen position is even, and `position % 20 == 7` would never hold.
            nth = len(device_rows)
            device_rows.append(
                {
                    "user_id": user_id,
                    "kind": kind,
                    "source": "mobile",
                    "secret_encrypted": box.encrypt(otp.new_secret()),
                    "digits": params.digits,
                    "period": params.period,
                    "t0": 0,
                    "algorithm": "SHA1",
                    "counter": 0,
                    "last_step": None,
                    "drift": 0,
                    "enabled": nth % 20 != 7,
                    "disabled_until": None,
                    "created_at": now,
                    "last_used_at": None,
                }
            )
            if nth % 50 == 3:
                account_rows.append(
                    {
                        "user_id": user_id,
                        "failed_attempts": 0,
                        "locked_until": now + timedelta(minutes=15),
                        "grace_deadline": None,
                        "exempt_until": None,
                    }
                )
        elif position % 10 == 5:
            overdue = position % 20 == 5
            account_rows.append(
                {
                    "user_id": user_id,
                    "failed_attempts": 0,
                    "locked_until": None,
                    "grace_deadline": now + timedelta(days=-1 if overdue else 5),
                    "exempt_until": None,
                }
            )
    connection = db.session.connection()
    for batch in _batches(iter(device_rows), BATCH):
        connection.execute(insert(OtpDevice), batch)
    for batch in _batches(iter(account_rows), BATCH):
        connection.execute(insert(TwoStepAccount), batch)
    return len(device_rows), len(account_rows)


translations_cli = AppGroup(
    "translations", help="The gettext catalogs under translations/, made from the message catalog."
)


@translations_cli.command("update")
def translations_update_command() -> None:
    """Write messages.pot from security/messages.py and bring each translation up to date.

    New sentences arrive untranslated, changed ones fuzzy: the catalog test fails on
    both until a translator has seen them.
    """
    from security.preferences import LANGUAGES
    from web import i18n

    template = i18n.template_catalog()
    i18n.write_catalog(template, i18n.TRANSLATIONS / f"{i18n.DOMAIN}.pot")
    for language in LANGUAGES[1:]:
        path = i18n.TRANSLATIONS / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        if path.exists():
            catalog = i18n.read_catalog(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="otp-console", version="1", fuzzy=False)
        catalog.update(template, update_header_comment=False)
        i18n.write_catalog(catalog, path)
        problems = i18n.unfinished_entries(catalog)
        untranslated = sum(1 for _, problem in problems if problem == "untranslated")
        fuzzy = sum(1 for _, problem in problems if problem == "fuzzy")
        click.echo(f"{path}: {len(catalog)} entries, {untranslated} untranslated, {fuzzy} fuzzy")


@translations_cli.command("compile")
@click.option("--force", is_flag=True, help="Rebuild every .mo, not only stale ones.")
def translations_compile_command(force: bool) -> None:
    """Build the .mo files the console reads (also done when the console starts)."""
    from web import i18n

    built = i18n.compile_catalogs(force=force)
    click.echo(f"compiled {len(built)} catalogs")
