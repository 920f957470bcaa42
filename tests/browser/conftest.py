"""Browser fixtures: the console served by a real server process, and Debian's Chromium.

`live_server` starts gunicorn on 127.0.0.1 against a fresh SQLite database in a
temporary folder, after `db upgrade` and `users ensure-admin`, exactly as `make run`
prepares a machine. `browser` drives /usr/bin/chromium through Playwright (never a
downloaded browser); `page` is a fresh context per test; `new_context()` opens more
contexts when a test needs two browsers. Every context reports console errors
(CSP violations, failed scripts) and fails the test at teardown if it saw any.
`screenshot(page, name)` saves a PNG under $TEST_ARTIFACTS/screenshots. The servers are
in tests.support.servers, the console-error watch in tests.support.browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, ConsoleErrors
from tests.support.servers import ROOT, LiveServer, serve_console


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip every browser test with one clear reason when Chromium is not installed."""
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


# --------------------------------------------------------------------------- the server


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
    root = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / ".ci" / "artifacts")
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
