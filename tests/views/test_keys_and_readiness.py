"""Keys that cannot be lost silently: `otp check-keys`, /readyz, and a server that
refuses to start when its keys open none of the stored secrets."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from security import keys
from security.secret_box import load_or_create_keys
from tests.support import BASE_SETTINGS
from tests.support.servers import GUNICORN, ROOT, Browser, free_port


@contextmanager
def keys_in_use(encryption_keys: list[str]) -> Iterator[None]:
    """Run with other OTP encryption keys loaded, then put the test run's keys back."""
    before = keys.encryption_keys()
    keys.configure(encryption_keys, keys.recovery_key())
    try:
        yield
    finally:
        keys.configure(before, keys.recovery_key())


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_check_keys_counts_the_secrets_each_key_opens(
    runner: Any, make_user: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    for login in ("first", "second"):
        connect_device(make_user(login))
    result = runner.invoke(args=["otp", "check-keys"])
    assert result.exit_code == 0, result.output
    assert "2 stored secrets" in result.output
    assert "key 1 (newest, encrypts): opens 2 secrets" in result.output
    # After a new key is put first, the old key still opens both.
    with keys_in_use([new_key(), *keys.encryption_keys()]):
        result = runner.invoke(args=["otp", "check-keys"])
    assert result.exit_code == 0, result.output
    assert "key 1 (newest, encrypts): opens 0 secrets" in result.output
    assert "key 2 (decrypts only): opens 2 secrets" in result.output


def test_check_keys_fails_naming_the_keys_when_none_opens(
    app: Any, runner: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    with keys_in_use([new_key()]):
        result = runner.invoke(args=["otp", "check-keys"])
    assert result.exit_code == 1
    assert "key 1 (newest, encrypts): opens 0 secrets" in result.output
    assert f"the OTP encryption keys in {Path(app.instance_path) / 'otp_keys'} are wrong" in (
        result.output
    )


def test_check_keys_without_devices_succeeds(runner: Any, employee: Any) -> None:
    result = runner.invoke(args=["otp", "check-keys"])
    assert result.exit_code == 0
    assert "0 stored secrets" in result.output


def test_readyz_is_ready_when_the_keys_open_the_secrets(
    client: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_answers_503_when_the_keys_open_nothing(
    client: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    with keys_in_use([new_key()]):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "reason": "keys_open_no_secrets",
    }
    # Liveness is another question: the process and its database answer.
    assert client.get("/healthz").status_code == 200


def test_readyz_answers_503_when_redis_does_not_answer(app: Any, client: Any) -> None:
    # Configured for a Redis where none listens (the limiter itself is not asked here).
    app.config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "redis_unavailable"


def _start_gunicorn(
    database_url: str, instance: Path, extra: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_INSTANCE_PATH": str(instance),
        "FLASK_SECRET_KEY": str(BASE_SETTINGS["SECRET_KEY"]),
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
        "GUNICORN_WORKERS": "1",
        **extra,
    }
    return subprocess.run(  # noqa: S603 - our own server, fixed arguments
        [str(GUNICORN), "-c", "gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_server_with_lost_keys_refuses_to_start_with_one_line(
    database_url: str,
    tmp_path: Path,
    employee: Any,
    two_step_on: Any,
    connect_device: Any,
) -> None:
    """A new server given the database but not its keys: it makes new keys, which open
    nothing; gunicorn stops instead of serving sign-ins that would all fail."""
    two_step_on()
    connect_device(employee)
    finished = _start_gunicorn(database_url, tmp_path, {})
    assert finished.returncode != 0
    line = (
        f"console: the OTP encryption keys in {tmp_path / 'otp_keys'} are wrong: they open "
        "none of the 1 stored secrets checked (1 devices)"
    )
    assert line in finished.stderr
    assert "Worker failed to boot" in finished.stderr


def test_wrong_keys_in_the_variable_are_named(
    database_url: str,
    tmp_path: Path,
    employee: Any,
    two_step_on: Any,
    connect_device: Any,
) -> None:
    two_step_on()
    connect_device(employee)
    finished = _start_gunicorn(
        database_url, tmp_path, {"FLASK_OTP_ENCRYPTION_KEYS": f"{new_key()},{new_key()}"}
    )
    assert finished.returncode != 0
    assert "the OTP encryption keys in FLASK_OTP_ENCRYPTION_KEYS are wrong" in finished.stderr


def test_the_right_keys_start_the_server(
    app: Any,
    database_url: str,
    tmp_path: Path,
    employee: Any,
    two_step_on: Any,
    connect_device: Any,
) -> None:
    """The start-up check passes with the right keys (here the old key after a new one)."""
    two_step_on()
    connect_device(employee)
    right = load_or_create_keys(Path(app.instance_path) / "otp_keys")
    env = {"FLASK_OTP_ENCRYPTION_KEYS": ",".join([new_key(), *right]), "GUNICORN_TIMEOUT": "5"}
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [str(GUNICORN), "-c", "gunicorn.conf.py", "app:create_app()"],
            cwd=ROOT,
            env={
                "PATH": os.environ.get("PATH", ""),
                "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
                "FLASK_INSTANCE_PATH": str(tmp_path),
                "FLASK_SECRET_KEY": str(BASE_SETTINGS["SECRET_KEY"]),
                "GUNICORN_WORKERS": "1",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        reply = None
        for _ in range(150):
            try:
                reply = Browser(port).get("/readyz")
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        assert reply is not None, log_path.read_text()
        assert reply.status == 200
        assert '"ready"' in reply.text
    finally:
        process.terminate()
        process.wait(timeout=30)
