"""Real servers for the system and browser tests: gunicorn on 127.0.0.1, a plain HTTP client.

The system tests run production-mode servers that share the test run's database
(PostgreSQL) and Redis (`server_environment`, `Browser`, `TcpRelay`); the browser
journeys run the console as `make run` prepares it, on a fresh SQLite database
(`serve_console`, `LiveServer`).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support import BASE_SETTINGS, TEST_DATABASE_URL, TEST_REDIS_URL, csrf_token_from

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
STARTUP_SECONDS = 30
REQUEST_SECONDS = 15
# The browser journeys' administrator, given to `users ensure-admin`.
ADMIN_PASSWORD = "browser-admin-" + secrets.token_hex(6)

needs_servers = pytest.mark.skipif(
    not (TEST_DATABASE_URL.startswith("postgresql") and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL",
)


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Browser:
    """A client for one server that keeps its cookies and never follows redirects."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_SECONDS)
        headers = {"User-Agent": "system-test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, text)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def submit(self, path: str, form: dict[str, str], *, page: str | None = None) -> Reply:
        """Open the page that holds the form (default: `path`), then post it with its token."""
        shown = self.get(page or path)
        assert shown.status == 200, (shown.status, shown.location)
        return self.request("POST", path, {**form, "csrf_token": csrf_token_from(shown.text)})

    def on(self, server: Server) -> Browser:
        """Return a client of another server holding a copy of these cookies."""
        return Browser(server.port, dict(self.cookies))


@dataclass
class Server:
    """One gunicorn master with its worker(s), listening on 127.0.0.1:port."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def browser(self) -> Browser:
        return Browser(self.port)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def instance_keys(instance_dir: str) -> dict[str, str]:
    """The OTP and recovery-code keys the test app uses, for the servers' environment."""
    instance = Path(instance_dir)
    otp_keys = re.split(r"[,\s]+", (instance / "otp_keys").read_text().strip())
    return {
        "FLASK_OTP_ENCRYPTION_KEYS": ",".join(key for key in otp_keys if key),
        "FLASK_RECOVERY_CODE_KEY": (instance / "recovery_key").read_text().strip(),
    }


def server_environment(database_url: str, instance_dir: str, **extra: str) -> dict[str, str]:
    """The environment of a production-mode server sharing the test database and Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "GUNICORN_", "TEST_"))
    }
    env.update(instance_keys(instance_dir))
    env.update(
        {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
            "FLASK_SECRET_KEY": str(BASE_SETTINGS["SECRET_KEY"]),
            "FLASK_SESSION_COOKIE_SECURE": "false",
            # Cheap argon2id so a sign-in takes milliseconds; production uses the defaults.
            "FLASK_PASSWORD_ARGON2_TIME_COST": "1",
            "FLASK_PASSWORD_ARGON2_MEMORY_KIB": "8",
            "FLASK_PASSWORD_ARGON2_PARALLELISM": "1",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_TIMEOUT": "30",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def wait_until_listening(server: Server) -> None:
    """Wait until the server answers /healthz at all (503 counts: the database may be down)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start-up:\n{server.log()[-3000:]}")
        try:
            Browser(server.port).get("/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer in {STARTUP_SECONDS} s:\n{server.log()}")


class TcpRelay:
    """A TCP relay to the database that a test can cut and restore, like a network outage."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and drop every open connection: the database is gone."""
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would
                # leave the port listening until that call returns.
                try:
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def signed_in(browser: Browser) -> bool:
    """Tell whether the browser's cookie is a live sign-in on its server."""
    reply = browser.get("/my/")
    assert reply.status in (200, 302), (reply.status, reply.text[:300])
    return reply.status == 200


def assert_plain_unavailable(reply: Reply) -> None:
    """A 503 that is the console's plain page, naming no exception or driver."""
    from security.messages import message

    assert reply.status == 503, (reply.status, reply.text[:500])
    assert message("error.title.503") in reply.text
    assert message("error.explanation.503") in reply.text
    for leak in ("OperationalError", "psycopg", "sqlalchemy"):
        assert leak not in reply.text


def never_a_server_error(reply: Reply) -> Any:
    """Pass on a reply that is no server error; a 503 must be the plain unavailable page."""
    assert reply.status < 500 or reply.status == 503, (reply.status, reply.text[:500])
    if reply.status == 503:
        assert_plain_unavailable(reply)
    return reply


# --- the console as `make run` serves it, for the browser journeys -----------------


@dataclass
class LiveServer:
    """The console served on 127.0.0.1, and the means to reach it from a test."""

    url: str
    admin_password: str
    database_url: str
    env: dict[str, str]
    log_path: Path

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `flask --app app ARGS…` against the served database; fail on non-zero."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"flask {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _server_env(database_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    # Start from the caller's environment without its console settings, so a
    # developer's FLASK_* or TEST_* variables cannot point the server elsewhere.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "TEST_", "ADMIN_PASSWORD"))
    }
    env.update(
        {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            # Given here so that nothing secret is generated into the repo's instance/.
            "FLASK_SECRET_KEY": secrets.token_hex(32),
            "FLASK_OTP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "FLASK_RECOVERY_CODE_KEY": secrets.token_hex(32),
            "FLASK_SESSION_COOKIE_SECURE": "false",
            "FLASK_RATELIMIT_ENABLED": "false",
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the console exited with {process.returncode} at start-up:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the console did not answer /healthz in time:\n{server.log_tail()}")


@contextmanager
def serve_console(folder: Path, *, printed_password: bool = False) -> Iterator[LiveServer]:
    """Prepare a fresh database in `folder` as `make run` does, and serve it with gunicorn.

    With `printed_password`, ADMIN_PASSWORD is not given: the first administrator's
    password is the one `users ensure-admin` prints once, read from its output.
    """
    database_url = f"sqlite:///{folder / 'browser.db'}"
    port = free_port()
    server = LiveServer(
        url=f"http://127.0.0.1:{port}",
        admin_password=ADMIN_PASSWORD,
        database_url=database_url,
        env=_server_env(database_url),
        log_path=folder / "server.log",
    )
    server.flask("db", "upgrade")
    if printed_password:
        del server.env["ADMIN_PASSWORD"]
        printed = server.flask("users", "ensure-admin").stdout
        found = re.search(r"Password \(shown only this once\): (\S+)", printed)
        assert found, f"ensure-admin printed no password: {printed!r}"
        server.admin_password = found.group(1)
    else:
        server.flask("users", "ensure-admin")
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(server.url, process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
