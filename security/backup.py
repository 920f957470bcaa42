"""Backups that restore: one encrypted archive holding the database and its keys.

The database alone is worthless without the keys that encrypt its OTP secrets and key
its recovery codes, and the keys alone are worthless without the database; the archive
holds both, so that a restore cannot bring back one without the other.

An archive is a gzip'd tar of ``manifest.json``, ``keys.json`` and (SQLite) ``console.db``,
encrypted with AES-256-GCM under a key derived from the passphrase with scrypt, both
from ``cryptography``. The file starts with a header that names the format and holds the
scrypt parameters, the salt and the nonce; the header is authenticated with the content,
so a changed byte anywhere (or a wrong passphrase) is refused as a whole.

SQLite is copied through its online backup API, which gives a consistent copy while the
console serves (with WAL, readers and writers go on during the copy). A PostgreSQL
database is not copied here: pg_dump does that; the archive then holds the keys.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from security.secret_box import InvalidKeys, SecretBox, parse_keys

FORMAT = 1
MAGIC = b"OTP-CONSOLE-BACKUP\n"
# scrypt at N=2**17, r=8, p=1 (128 MiB, a fraction of a second): OWASP's recommendation.
SCRYPT_LOG2_N = 17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
NONCE_BYTES = 12
_HEADER_BYTES = len(MAGIC) + 3 + SALT_BYTES + NONCE_BYTES
# AES-GCM in one piece, as `cryptography` offers it, takes at most 2**31 - 1 bytes.
MAX_ARCHIVE_BYTES = 2**31 - 1 - 16
MIN_PASSPHRASE = 12
BUSY_TIMEOUT_MS = 30_000

MANIFEST = "manifest.json"
KEYS = "keys.json"
DATABASE = "console.db"
KEY_FILES = {"otp_keys": "otp_keys", "recovery_key": "recovery_key", "secret_key": "secret_key"}


class BackupError(Exception):
    """A backup or restore that cannot go on; the text says why, in one line."""


@dataclass(frozen=True)
class KeyMaterial:
    """The keys kept outside the database."""

    encryption_keys: list[str]
    recovery_key_hex: str
    secret_key: str


@dataclass(frozen=True)
class DatabaseFacts:
    """What a database holds, as a restore checks it."""

    users: int
    devices: int
    secrets_opened: int


@dataclass(frozen=True)
class RestoreResult:
    created_at: str
    database_restored: bool
    facts: DatabaseFacts
    kept_old_keys: list[str]


# --- the encrypted envelope -----------------------------------------------------------


def read_passphrase(path: Path) -> bytes:
    """Read a passphrase file (one line; the line end is not part of it)."""
    try:
        text = path.read_bytes()
    except OSError as error:
        raise BackupError(f"cannot read the passphrase file {path}: {error.strerror}") from None
    passphrase = text.rstrip(b"\r\n")
    if not passphrase.strip():
        raise BackupError(f"the passphrase file {path} is empty")
    return passphrase


def _derive(passphrase: bytes, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p).derive(passphrase)


def seal(payload: bytes, passphrase: bytes) -> bytes:
    """Encrypt `payload` under the passphrase; return the archive's bytes."""
    if len(payload) > MAX_ARCHIVE_BYTES:
        raise BackupError("the archive would pass 2 GiB: use the database's own tools")
    salt = secrets.token_bytes(SALT_BYTES)
    nonce = secrets.token_bytes(NONCE_BYTES)
    header = MAGIC + bytes([SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P]) + salt + nonce
    key = _derive(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    return header + AESGCM(key).encrypt(nonce, payload, header)


def unseal(data: bytes, passphrase: bytes) -> bytes:
    """Decrypt an archive; refuse a wrong passphrase or a changed file."""
    if not data.startswith(MAGIC) or len(data) < _HEADER_BYTES + 16:
        raise BackupError("not a backup archive of this console")
    header = data[:_HEADER_BYTES]
    log2_n, r, p = header[len(MAGIC) : len(MAGIC) + 3]
    if not (10 <= log2_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise BackupError("not a backup archive of this console")
    salt = header[len(MAGIC) + 3 : len(MAGIC) + 3 + SALT_BYTES]
    nonce = header[-NONCE_BYTES:]
    key = _derive(passphrase, salt, log2_n, r, p)
    try:
        return AESGCM(key).decrypt(nonce, data[_HEADER_BYTES:], header)
    except InvalidTag:
        raise BackupError(
            "wrong passphrase, or the archive was changed since it was made"
        ) from None


# --- making an archive ----------------------------------------------------------------


def sqlite_path(database_url_path: str | None) -> Path | None:
    """The file of a SQLite database, or None for a database in memory."""
    if not database_url_path or database_url_path == ":memory:":
        return None
    return Path(database_url_path)


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database through the online backup API: consistent while it serves.

    All pages go in one step, under one read transaction: with WAL the console's writers
    go on meanwhile, and the copy is the database as of the step's start.
    """
    with (
        closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        # The copy stands alone: no -wal file belongs to it.
        dst.execute("PRAGMA journal_mode=DELETE")


def build_archive(
    *,
    keys: KeyMaterial,
    now: datetime,
    database_kind: str,
    database_file: Path | None,
    schema_revision: str,
) -> bytes:
    """Return the (unencrypted) archive: manifest, keys, and the SQLite copy if any."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="console-backup-") as work:
        copy = Path(work) / DATABASE
        facts = None
        if database_file is not None:
            copy_sqlite(database_file, copy)
            facts = database_facts(copy, SecretBox(keys.encryption_keys))
        manifest = {
            "format": FORMAT,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "database": database_kind,
            "database_included": database_file is not None,
            "schema_revision": schema_revision,
            "users": facts.users if facts else None,
            "devices": facts.devices if facts else None,
        }
        key_data = {
            "otp_encryption_keys": keys.encryption_keys,
            "recovery_code_key": keys.recovery_key_hex,
            "secret_key": keys.secret_key,
        }
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode(), now)
            _add_bytes(tar, KEYS, json.dumps(key_data).encode(), now)
            if database_file is not None:
                tar.add(copy, arcname=DATABASE)
    return buffer.getvalue()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, now: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(now.timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, replacing it in one step."""
    path = path.resolve()
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# --- reading and checking an archive --------------------------------------------------


@dataclass(frozen=True)
class OpenedArchive:
    manifest: dict[str, Any]
    keys: KeyMaterial
    database: bytes | None


def open_archive(data: bytes, passphrase: bytes) -> OpenedArchive:
    """Decrypt and read an archive; only its known members are read, never extracted."""
    payload = unseal(data, passphrase)
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            members = {member.name: member for member in tar.getmembers() if member.isfile()}
            if MANIFEST not in members or KEYS not in members:
                raise BackupError("the archive lacks its manifest or its keys")

            def read(name: str) -> bytes:
                handle = tar.extractfile(members[name])
                if handle is None:
                    raise BackupError(f"the archive's {name} cannot be read")
                return handle.read()

            manifest = json.loads(read(MANIFEST))
            key_data = json.loads(read(KEYS))
            database = read(DATABASE) if DATABASE in members else None
    except (tarfile.TarError, OSError, ValueError, KeyError, EOFError):
        raise BackupError("the archive is damaged") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"archive format {manifest.get('format')!r} is not known here")
    try:
        encryption_keys = parse_keys(",".join(key_data["otp_encryption_keys"]))
        recovery_hex = str(key_data["recovery_code_key"])
        bytes.fromhex(recovery_hex)
        secret_key = str(key_data["secret_key"])
    except (InvalidKeys, KeyError, TypeError, ValueError):
        raise BackupError("the archive's keys are damaged") from None
    return OpenedArchive(manifest, KeyMaterial(encryption_keys, recovery_hex, secret_key), database)


def database_facts(path: Path, box: SecretBox) -> DatabaseFacts:
    """Open a SQLite file, check its integrity, and count users, devices and the device
    secrets that `box` opens."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the database fails SQLite's check: {verdict}")
            users = connection.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            tokens = [
                row[0] for row in connection.execute("SELECT secret_encrypted FROM otp_devices")
            ]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the database cannot be read: {error}") from None
    opened = sum(1 for token in tokens if box.key_position(token) is not None)
    return DatabaseFacts(users=int(users), devices=len(tokens), secrets_opened=opened)


def sqlite_users(path: Path) -> int:
    """How many users a SQLite file holds (0 when it is empty or has no schema yet)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM users").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0


@contextmanager
def unpacked_database(database: bytes) -> Iterator[Path]:
    """The archive's database as a file in a private temporary directory."""
    with tempfile.TemporaryDirectory(prefix="console-restore-") as work:
        path = Path(work) / DATABASE
        path.write_bytes(database)
        yield path


def restore_sqlite(copy: Path, target: Path) -> None:
    """Replace the database at `target` with `copy`, through the online backup API.

    Copying pages into the target's own connection (rather than moving files) keeps its
    -wal and -shm files consistent with it.
    """
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with (
        closing(sqlite3.connect(copy)) as src,
        closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def write_keys(instance: Path, keys: KeyMaterial, *, stamp: str) -> list[str]:
    """Write the keys files into the instance folder; keep any different old file beside
    it (``otp_keys.before-restore-<stamp>``). Return the names of the files kept."""
    contents = {
        KEY_FILES["otp_keys"]: "\n".join(keys.encryption_keys) + "\n",
        KEY_FILES["recovery_key"]: keys.recovery_key_hex + "\n",
        KEY_FILES["secret_key"]: keys.secret_key + "\n",
    }
    kept = []
    for name, text in contents.items():
        path = instance / name
        if path.exists() and path.read_text().strip() != text.strip():
            old = path.with_name(f"{name}.before-restore-{stamp}")
            os.replace(path, old)
            kept.append(old.name)
        write_private(path, text.encode())
    return kept
