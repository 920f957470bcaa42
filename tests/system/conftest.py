"""Real servers for system tests: gunicorn processes on 127.0.0.1, a plain HTTP client.

These tests need PostgreSQL and Redis (TEST_DATABASE_URL and TEST_REDIS_URL); without
them every test here is skipped. The servers share the test run's database, its keys
and its secret key, so the `app`, `make_user`, `two_step_on` and `connect_device`
fixtures prepare what the servers then serve.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import BASE_SETTINGS, TEST_DATABASE_URL, TEST_REDIS_URL, csrf_token_from

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
STARTUP_SECONDS = 30
REQUEST_SECONDS = 15

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


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """Start gunicorn servers on free ports; every one is stopped at the end of the run."""
    started: list[Server] = []
    logs = tmp_path_factory.mktemp("servers")

    def start(name: str, env: dict[str, str]) -> Server:
        port = free_port()
        log_path = logs / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py", "app:create_app()"],
                cwd=ROOT,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(name, port, process, log_path)
        started.append(server)
        wait_until_listening(server)
        return server

    yield start
    for server in started:
        server.stop()


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


@pytest.fixture
def relay() -> Iterator[Callable[[tuple[str, int]], TcpRelay]]:
    relays: list[TcpRelay] = []

    def make(target: tuple[str, int]) -> TcpRelay:
        made = TcpRelay(target)
        made.start()
        relays.append(made)
        return made

    yield make
    for made in relays:
        made.cut()


def signed_in(browser: Browser) -> bool:
    """Tell whether the browser's cookie is a live sign-in on its server."""
    reply = browser.get("/my/")
    assert reply.status in (200, 302), (reply.status, reply.text[:300])
    return reply.status == 200


def assert_plain_unavailable(reply: Reply) -> None:
    """A 503 that is the console's plain page: no traceback, no exception name."""
    assert reply.status == 503, (reply.status, reply.text[:500])
    assert "Service unavailable" in reply.text
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlalchemy"):
        assert leak not in reply.text


def never_a_server_error(reply: Reply) -> Any:
    assert reply.status < 500 or reply.status == 503, (reply.status, reply.text[:500])
    assert "Traceback" not in reply.text
    return reply
