"""Real servers for system tests: gunicorn processes on 127.0.0.1, a plain HTTP client.

These tests need PostgreSQL and Redis (TEST_DATABASE_URL and TEST_REDIS_URL); without
them every test here is skipped. The servers share the test run's database, its keys
and its secret key, so the `app`, `make_user`, `two_step_on` and `connect_device`
fixtures prepare what the servers then serve. The servers and their client are in
tests.support.servers.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest

from tests.support.servers import (
    GUNICORN,
    ROOT,
    Server,
    TcpRelay,
    free_port,
    wait_until_listening,
)


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
