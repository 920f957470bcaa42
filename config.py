"""Every setting with its safe default, and the checks that stop a bad start-up."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import argon2
from flask import Flask
from limits import parse_many
from sqlalchemy.engine import make_url


class InvalidSetting(SystemExit):
    """A setting that the console cannot start with; Python prints only this one line."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"console: invalid setting {key}: {problem}")


DEFAULTS: dict[str, Any] = {
    # SQLALCHEMY_DATABASE_URI and SECRET_KEY are filled in from instance/ when absent.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_recycle": 1800},
    "SESSION_COOKIE_NAME": "console_session",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # A "remember me" sign-in keeps the cookie across browser restarts, but the
    # server-side record still ends after the absolute lifetime.
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    # Flask-Login's own remember cookie is never used; these flags keep it safe anyway.
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": timedelta(hours=12),
    "WTF_CSRF_TIME_LIMIT": 3600,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": False,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "REAUTH_MINUTES": 10,
    "USERS_PER_PAGE": 50,
    "EVENTS_PER_PAGE": 50,
    # argon2id cost per password check: argon2-cffi's defaults (3 passes over 64 MiB,
    # 4 lanes); tests lower them. A change rehashes each password at its next sign-in.
    "PASSWORD_ARGON2_TIME_COST": argon2.DEFAULT_TIME_COST,
    "PASSWORD_ARGON2_MEMORY_KIB": argon2.DEFAULT_MEMORY_COST,
    "PASSWORD_ARGON2_PARALLELISM": argon2.DEFAULT_PARALLELISM,
    "MAX_CONTENT_LENGTH": 256 * 1024,
    # For people who chose none: the language when the browser asks for neither, and the
    # zone every time is shown in.
    "DEFAULT_LANGUAGE": "en",
    "DEFAULT_TIMEZONE": "UTC",
    # The console's address as people reach it, for links in e-mail.
    "PUBLIC_URL": "",
    # Outgoing mail; no server: notices on My page only.
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_SECURITY": "none",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "console@localhost",
    "MAIL_TIMEOUT": 10,
    "MAIL_CA_FILE": "",
    # The company directory (security.directory). None: not set here, the settings page
    # decides; a value set here fixes that field on the page.
    "LDAP_URL": None,
    "LDAP_START_TLS": None,
    "LDAP_CA_FILE": None,
    "LDAP_BIND_DN": None,
    "LDAP_BIND_PASSWORD": None,
    "LDAP_USER_BASE": None,
    "LDAP_USER_FILTER": None,
    "LDAP_LOGIN_ATTRIBUTE": None,
    "LDAP_EMAIL_ATTRIBUTE": None,
    "LDAP_FIRST_NAME_ATTRIBUTE": None,
    "LDAP_LAST_NAME_ATTRIBUTE": None,
    "LDAP_GROUP_BASE": None,
    "LDAP_GROUP_MAP": None,
    # SQLite only (WAL mode). FULL syncs the log at every commit: a spent code, a lock or
    # a sign-in survives a power cut. NORMAL syncs only at checkpoints: commits survive a
    # crash of the application but the last ones may be lost on power loss or an OS
    # crash, so a just-spent code could be accepted once more after it. NORMAL saves
    # one fsync per commit (see bench/README.md); PostgreSQL ignores this setting.
    "SQLITE_SYNCHRONOUS": "FULL",
    # Behind a reverse proxy: how many proxies set each X-Forwarded-* header (0: trust none).
    "PROXY_FIX_X_FOR": 0,
    "PROXY_FIX_X_PROTO": 0,
    "PROXY_FIX_X_HOST": 0,
    "PROXY_FIX_X_PORT": 0,
    "PROXY_FIX_X_PREFIX": 0,
    # `maintenance prune`: events, read notices and sent e-mails older than this go.
    "EVENT_RETENTION_DAYS": 365,
    # GET /metrics: with a token, only `Authorization: Bearer <token>`; without, only
    # from this computer.
    "METRICS_TOKEN": "",
    # Every security event also to syslog: udp://host:514, tcp://host:601 or
    # tls://host:6514 (the CA file checks the receiver's certificate; default: the system's).
    "SYSLOG_ADDRESS": "",
    "SYSLOG_CA_FILE": "",
}

# Pooled connections for a server database (SQLite keeps its own pool). A sync gunicorn
# worker uses one connection at a time; a short connect and pool timeout turn a database
# that does not answer into a quick 503 instead of a worker killed by gunicorn's timeout.
SERVER_ENGINE_OPTIONS: dict[str, Any] = {
    "pool_size": 5,
    "max_overflow": 5,
    "pool_timeout": 10,
}
POSTGRESQL_CONNECT_ARGS: dict[str, Any] = {"connect_timeout": 5}

MAIL_SECURITY_VALUES = ("none", "starttls", "ssl")

# OFF is not offered: a commit could be lost or the file damaged by a crash of the OS.
SQLITE_SYNCHRONOUS_VALUES = ("FULL", "EXTRA", "NORMAL")

_BOOLEAN_KEYS = ("SESSION_COOKIE_SECURE", "RATELIMIT_ENABLED")
_POSITIVE_INT_KEYS = (
    "SESSION_IDLE_MINUTES",
    "SESSION_ABSOLUTE_HOURS",
    "REAUTH_MINUTES",
    "USERS_PER_PAGE",
    "EVENTS_PER_PAGE",
    "PASSWORD_ARGON2_TIME_COST",
    "PASSWORD_ARGON2_MEMORY_KIB",
    "PASSWORD_ARGON2_PARALLELISM",
    "EVENT_RETENTION_DAYS",
)
# Earlier names of settings, still read when the new name is left at its default.
_RENAMED_KEYS = {
    "PASSWORD_HASH_TIME_COST": "PASSWORD_ARGON2_TIME_COST",
    "PASSWORD_HASH_MEMORY_COST": "PASSWORD_ARGON2_MEMORY_KIB",
    "PASSWORD_HASH_PARALLELISM": "PASSWORD_ARGON2_PARALLELISM",
}
_PROXY_FIX_KEYS = (
    "PROXY_FIX_X_FOR",
    "PROXY_FIX_X_PROTO",
    "PROXY_FIX_X_HOST",
    "PROXY_FIX_X_PORT",
    "PROXY_FIX_X_PREFIX",
)


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config: defaults, instance/config.py, FLASK_* variables, then check it."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)
    for old, new in _RENAMED_KEYS.items():
        if old in app.config and app.config[new] == DEFAULTS[new]:
            app.config[new] = app.config.pop(old)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'console.db'}")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_or_create_secret(instance / "secret_key")
    load_keys(app.config, instance)
    for key in ("METRICS_TOKEN", "SYSLOG_ADDRESS", "SYSLOG_CA_FILE"):
        app.config[key] = _as_text(app.config[key])
    validate(app.config)
    validate_directory(app.config)
    from security import directory, notices

    notices.configure(mail_enabled=bool(app.config["MAIL_SERVER"]))
    directory.configure(app.config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        str(app.config["SQLALCHEMY_DATABASE_URI"]), app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    )
    # Flask-Login's remember cookie follows the session cookie's transport rule.
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]


def engine_options(url: str, configured: dict[str, Any]) -> dict[str, Any]:
    """Add the pool defaults of a server database to the configured engine options."""
    options = dict(configured)
    backend = make_url(url).get_backend_name()
    if backend != "sqlite":
        for key, value in SERVER_ENGINE_OPTIONS.items():
            options.setdefault(key, value)
    if backend == "postgresql":
        options["connect_args"] = {**POSTGRESQL_CONNECT_ARGS, **options.get("connect_args", {})}
    return options


def load_keys(config: Any, instance: Path) -> None:
    """Read or create the OTP encryption keys and the recovery-code key, then install them."""
    from security import keys
    from security.secret_box import InvalidKeys, load_or_create_keys, parse_keys

    configured = config.get("OTP_ENCRYPTION_KEYS")
    try:
        if configured:
            text = ",".join(configured) if isinstance(configured, list | tuple) else str(configured)
            encryption_keys = parse_keys(text)
            config["OTP_KEYS_SOURCE"] = "FLASK_OTP_ENCRYPTION_KEYS"
        else:
            encryption_keys = load_or_create_keys(instance / "otp_keys")
            config["OTP_KEYS_SOURCE"] = str(instance / "otp_keys")
    except InvalidKeys as error:
        raise InvalidSetting("FLASK_OTP_ENCRYPTION_KEYS", str(error)) from None
    recovery = config.get("RECOVERY_CODE_KEY") or read_or_create_secret(instance / "recovery_key")
    try:
        recovery_bytes = bytes.fromhex(str(recovery))
        if len(recovery_bytes) < 16:
            raise ValueError
    except ValueError:
        raise InvalidSetting(
            "FLASK_RECOVERY_CODE_KEY", "expected at least 32 hexadecimal characters"
        ) from None
    keys.configure(encryption_keys, recovery_bytes)


def validate(config: Any) -> None:
    """Refuse settings the console cannot run with, naming the setting."""
    for key in _BOOLEAN_KEYS:
        if not isinstance(config[key], bool):
            raise InvalidSetting(f"FLASK_{key}", "expected true or false")
    for key in _POSITIVE_INT_KEYS:
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidSetting(f"FLASK_{key}", "expected a whole number of at least 1")
    for key in _PROXY_FIX_KEYS:
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidSetting(f"FLASK_{key}", "expected a whole number of proxies (0: off)")
    try:
        if not parse_many(str(config["LOGIN_RATE_LIMIT"])):
            raise ValueError
    except ValueError:
        raise InvalidSetting(
            "FLASK_LOGIN_RATE_LIMIT", "expected a limit such as '10 per minute'"
        ) from None
    try:
        make_url(str(config["SQLALCHEMY_DATABASE_URI"]))
    except Exception:  # noqa: BLE001 - any parse failure is the same bad setting
        raise InvalidSetting("FLASK_SQLALCHEMY_DATABASE_URI", "not a database URL") from None
    if str(config["SQLITE_SYNCHRONOUS"]).upper() not in SQLITE_SYNCHRONOUS_VALUES:
        raise InvalidSetting("FLASK_SQLITE_SYNCHRONOUS", "expected FULL, EXTRA or NORMAL")
    storage = str(config["RATELIMIT_STORAGE_URI"])
    if storage.split("://", 1)[0] not in {"memory", "redis", "rediss", "redis+sentinel"}:
        raise InvalidSetting(
            "FLASK_RATELIMIT_STORAGE_URI", "expected memory:// or redis://host:port/db"
        )
    from security.preferences import LANGUAGES, is_time_zone

    if config["DEFAULT_LANGUAGE"] not in LANGUAGES:
        raise InvalidSetting("FLASK_DEFAULT_LANGUAGE", f"expected one of {', '.join(LANGUAGES)}")
    if not is_time_zone(str(config["DEFAULT_TIMEZONE"])):
        raise InvalidSetting(
            "FLASK_DEFAULT_TIMEZONE", "expected an IANA time zone name such as Europe/Moscow"
        )
    if config["MAIL_SECURITY"] not in MAIL_SECURITY_VALUES:
        raise InvalidSetting("FLASK_MAIL_SECURITY", "expected none, starttls or ssl")
    for key in ("MAIL_PORT", "MAIL_TIMEOUT"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65_535:
            raise InvalidSetting(f"FLASK_{key}", "expected a whole number of at least 1")
    if config["MAIL_CA_FILE"] and not Path(str(config["MAIL_CA_FILE"])).is_file():
        raise InvalidSetting("FLASK_MAIL_CA_FILE", "no such file")
    if "@" not in str(config["MAIL_FROM"]):
        raise InvalidSetting("FLASK_MAIL_FROM", "expected an e-mail address")
    public_url = str(config["PUBLIC_URL"])
    if public_url and not public_url.startswith(("https://", "http://")):
        raise InvalidSetting("FLASK_PUBLIC_URL", "expected https://console.example.com")
    validate_monitoring(config)
    secret = config["SECRET_KEY"]
    if not isinstance(secret, str | bytes) or len(secret) < 16:
        raise InvalidSetting("FLASK_SECRET_KEY", "expected at least 16 characters")


def validate_directory(config: Any) -> None:
    """Refuse FLASK_LDAP_* values the directory cannot be used with."""
    from integrations.ldap import LOGIN_ATTRIBUTES
    from security.directory import parse_group_map, parse_urls

    url = config.get("LDAP_URL")
    if url is not None:
        try:
            parse_urls(str(url))
        except ValueError as error:
            raise InvalidSetting(
                "FLASK_LDAP_URL", f"expected ldap:// or ldaps:// URLs, got {error}"
            ) from None
    start_tls = config.get("LDAP_START_TLS")
    if start_tls is not None and not isinstance(start_tls, bool):
        raise InvalidSetting("FLASK_LDAP_START_TLS", "expected true or false")
    ca_file = config.get("LDAP_CA_FILE")
    if ca_file and not Path(str(ca_file)).is_file():
        raise InvalidSetting("FLASK_LDAP_CA_FILE", "no such file")
    login_attribute = config.get("LDAP_LOGIN_ATTRIBUTE")
    if login_attribute is not None and login_attribute not in LOGIN_ATTRIBUTES:
        raise InvalidSetting(
            "FLASK_LDAP_LOGIN_ATTRIBUTE", f"expected {', '.join(LOGIN_ATTRIBUTES)}"
        )
    group_map = config.get("LDAP_GROUP_MAP")
    if group_map is not None:
        try:
            parse_group_map(group_map)
        except ValueError:
            raise InvalidSetting(
                "FLASK_LDAP_GROUP_MAP", 'expected JSON {"<group DN>": <console group id>}'
            ) from None


def _as_text(value: Any) -> str:
    """A setting that is text, even when the environment's JSON made it a number or a bool."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def validate_monitoring(config: Any) -> None:
    """Refuse a metrics token or a syslog receiver the console cannot use."""
    from integrations.syslog import InvalidAddress, parse_address

    token = config["METRICS_TOKEN"]
    if token != token.strip() or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise InvalidSetting("FLASK_METRICS_TOKEN", "expected a token without spaces")
    address = config["SYSLOG_ADDRESS"]
    scheme = ""
    if address:
        try:
            scheme = parse_address(address).scheme
        except InvalidAddress as error:
            raise InvalidSetting("FLASK_SYSLOG_ADDRESS", str(error)) from None
    ca_file = config["SYSLOG_CA_FILE"]
    if ca_file:
        if scheme != "tls":
            raise InvalidSetting("FLASK_SYSLOG_CA_FILE", "only for a tls:// syslog address")
        if not Path(ca_file).is_file():
            raise InvalidSetting("FLASK_SYSLOG_CA_FILE", "no such file")


def read_or_create_secret(path: Path, nbytes: int = 32) -> str:
    """Return the secret kept in `path`, creating it once even when workers race."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.02)  # another process is between create and write
        raise InvalidSetting(str(path), "the file is empty") from None
    value = secrets.token_hex(nbytes)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
