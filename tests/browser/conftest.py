"""Browser fixtures: the console served by a real server process, and Debian's Chromium.

`live_server` starts gunicorn on 127.0.0.1 against a fresh SQLite database in a
temporary folder, after `db upgrade` and `users ensure-admin`, exactly as `make run`
prepares a machine. `browser` drives /usr/bin/chromium through Playwright (never a
downloaded browser); `page` is a fresh context per test; `new_context()` opens more
contexts when a test needs two browsers. Every context reports console errors
(CSP violations, failed scripts) and fails the test at teardown if it saw any.
`screenshot(page, name)` saves a PNG under $TEST_ARTIFACTS/screenshots.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium dials out on its own, and the
# closed network of CI refuses those connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_PASSWORD = "browser-admin-" + secrets.token_hex(6)
SERVER_START_SECONDS = 30


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip every browser test with one clear reason when Chromium is not installed."""
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


# --------------------------------------------------------------------------- the server


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
            cwd=REPO,
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    deadline = time.monotonic() + SERVER_START_SECONDS
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
    port = _free_port()
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
            cwd=REPO,
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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the console with gunicorn on a free port of 127.0.0.1 for the whole run."""
    with serve_console(tmp_path_factory.mktemp("live-server")) as server:
        yield server


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve a console of its own to one test module, on a fresh database.

    For modules whose journeys change global settings (two-step on, mandatory for
    administrators): they override `live_server` with this, so the other browser tests
    never see those settings. The administrator's password is the printed one.
    """
    with serve_console(tmp_path_factory.mktemp("module-server"), printed_password=True) as server:
        yield server


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    manager = sync_api.sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()


# Chromium reports every non-2xx document as "Failed to load resource"; a 400 for a
# form with bad input or a 403 page is the console's answer, not a broken page.
_DOCUMENT_STATUS = re.compile(r"^Failed to load resource: the server responded with a status")


@dataclass
class ConsoleErrors:
    """Errors the pages of a test printed to the console, or threw."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern` in this test (say why where you call it)."""
        self.allowed.append(re.compile(pattern))

    def watch(self, page: Any) -> None:
        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            text = message.text
            if _DOCUMENT_STATUS.match(text) and _is_document(page, message):
                return
            self.messages.append(f"{page.url}: {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.messages.append(f"{page.url}: {error}"))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]

    def clear(self) -> None:
        self.messages.clear()


def _is_document(page: Any, message: Any) -> bool:
    # The message's location is the URL that failed; a document URL has no static/ path.
    location = (message.location or {}).get("url", "")
    return "/static/" not in location and not location.endswith((".css", ".js", ".svg"))


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def new_context(
    browser: Any, live_server: LiveServer, console_errors: ConsoleErrors
) -> Iterator[Callable[..., Any]]:
    """Open fresh browser contexts (separate cookie jars) on the live server."""
    contexts: list[Any] = []

    def open_context(**options: Any) -> Any:
        options.setdefault("base_url", live_server.url)
        options.setdefault("viewport", {"width": 1280, "height": 860})
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.on("page", console_errors.watch)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
    unexpected = console_errors.unexpected()
    if unexpected:
        pytest.fail("console errors in the browser:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    return new_context()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    root = Path(os.environ.get("TEST_ARTIFACTS") or REPO / ".ci" / "artifacts")
    folder = root / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(artifacts_dir: Path) -> Callable[..., Path]:
    """Save a full-page PNG of `page` as <artifacts>/screenshots/<name>.png."""

    def take(page: Any, name: str, *, full_page: bool = True) -> Path:
        path = artifacts_dir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
