"""GET /metrics under gunicorn with two workers: the counts are the whole server's.

Each worker counts the sign-ins it served in its own file of the metrics directory that
gunicorn.conf.py made (prometheus-client's multiprocess mode); whichever worker answers
the scrape adds up every worker's. The test sees both workers' files, and a scrape that
shows their sum.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.mmap_dict import MmapedDict

from tests.support import DEFAULT_PASSWORD
from tests.support.metrics import parse_metrics, value
from tests.support.servers import Browser, Server, needs_servers, server_environment

pytestmark = [pytest.mark.postgres, pytest.mark.redis, needs_servers]

SIGN_INS = "console_sign_ins_total"


@pytest.fixture(scope="module")
def two_workers(
    start_server: Any,
    database_url: str,
    instance_dir: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Server, Path]:
    """One gunicorn master with two workers; its metrics directory is made under TMPDIR."""
    temporary = tmp_path_factory.mktemp("metrics-tmp")
    env = server_environment(
        database_url,
        instance_dir,
        GUNICORN_WORKERS="2",
        FLASK_LOGIN_RATE_LIMIT="1000 per minute",
        TMPDIR=str(temporary),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return start_server("two-workers", env), temporary


def counts_by_worker(temporary: Path, outcome: str) -> dict[int, float]:
    """Each worker's own count of password steps with `outcome`, read from its file."""
    [directory] = temporary.glob("otp-console-metrics-*")
    counts: dict[int, float] = {}
    for path in directory.glob("counter_*.db"):
        pid = int(re.fullmatch(r"counter_(\d+)\.db", path.name).group(1))  # type: ignore[union-attr]
        for key, number, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, labels, _ = json.loads(key)
            if name == SIGN_INS and labels == {"outcome": outcome}:
                counts[pid] = counts.get(pid, 0.0) + number
    return counts


def scrape(server: Server) -> dict[Any, float]:
    reply = Browser(server.port).get("/metrics")
    assert reply.status == 200, reply.text[:300]
    return parse_metrics(reply.text)


def sign_in_many(server: Server, logins: list[str], *, wrong: int) -> None:
    """Sign in from several browsers at once, so that both workers serve some: each login
    once with its password, and the first login `wrong` times with a wrong one."""
    attempts = [(login, DEFAULT_PASSWORD) for login in logins]
    attempts += [(logins[0], "wrong password!")] * wrong
    failures: list[str] = []

    def attempt(login: str, password: str) -> None:
        reply = Browser(server.port).submit("/login", {"login": login, "password": password})
        expected = 303 if password == DEFAULT_PASSWORD else 200
        if reply.status != expected:
            failures.append(f"{reply.status} for {login}")

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, (failures, server.log()[-4000:])


def test_the_sign_ins_of_both_workers_add_up(
    app: Any, make_user: Any, two_workers: tuple[Server, Path]
) -> None:
    server, temporary = two_workers
    from extensions import db
    from security.otp_settings import load_settings

    # The settings row, as the migrations leave it (the fixture emptied every table): the
    # first requests must not all race to create it.
    load_settings()
    db.session.commit()
    logins = [f"worker-test-{number}" for number in range(8)]
    for login in logins:
        make_user(login)
    before = scrape(server)
    right = wrong = 0
    for _ in range(10):  # until both workers have served sign-ins
        sign_in_many(server, logins, wrong=4)
        right, wrong = right + len(logins), wrong + 4
        if len([n for n in counts_by_worker(temporary, "ok").values() if n > 0]) >= 2:
            break
    by_worker = counts_by_worker(temporary, "ok")
    assert len([n for n in by_worker.values() if n > 0]) >= 2, by_worker
    # Every scrape, whichever worker answers it, shows the whole server's counts.
    for _ in range(6):
        after = scrape(server)
        assert value(after, SIGN_INS, outcome="ok") - value(before, SIGN_INS, outcome="ok") == right
        assert (
            value(after, SIGN_INS, outcome="wrong") - value(before, SIGN_INS, outcome="wrong")
            == wrong
        )
    assert sum(counts_by_worker(temporary, "ok").values()) == value(after, SIGN_INS, outcome="ok")
    assert value(after, "console_users", state="not_configured") >= 1
