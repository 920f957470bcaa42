"""Encryption at rest of OTP secrets, key parsing and the generated keys file."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from security.secret_box import (
    InvalidKeys,
    SecretBox,
    SecretBoxError,
    load_or_create_keys,
    parse_keys,
)


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_round_trip() -> None:
    box = SecretBox([new_key()])
    secret = b"\x00\x01secret bytes\xff"
    token = box.encrypt(secret)
    assert isinstance(token, str)
    assert secret not in token.encode()
    assert box.decrypt(token) == secret
    # Fresh IV each time: equal secrets do not give equal tokens.
    assert box.encrypt(secret) != token


def test_decrypting_garbage_or_foreign_tokens_fails_cleanly() -> None:
    box = SecretBox([new_key()])
    foreign = SecretBox([new_key()]).encrypt(b"x")
    for token in (foreign, "", "not a token", "é", box.encrypt(b"x")[:-4]):
        with pytest.raises(SecretBoxError):
            box.decrypt(token)
        with pytest.raises(SecretBoxError):
            box.rotate(token)


def test_rotation() -> None:
    old, new = new_key(), new_key()
    token = SecretBox([old]).encrypt(b"the secret")

    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt(token) == b"the secret"
    assert not rotated_box.is_current(token)

    rotated = rotated_box.rotate(token)
    assert rotated_box.is_current(rotated)
    assert SecretBox([new]).decrypt(rotated) == b"the secret"
    with pytest.raises(SecretBoxError):
        SecretBox([old]).decrypt(rotated)


def test_first_key_encrypts() -> None:
    first, second = new_key(), new_key()
    token = SecretBox([first, second]).encrypt(b"s")
    assert SecretBox([first]).decrypt(token) == b"s"
    with pytest.raises(SecretBoxError):
        SecretBox([second]).decrypt(token)


def test_decrypt_costs_no_key_derivation() -> None:
    box = SecretBox([new_key(), new_key()])
    token = box.encrypt(b"x" * 20)
    started = time.perf_counter()
    for _ in range(1_000):
        box.decrypt(token)
    # Microseconds each; a KDF per call would take milliseconds.
    assert (time.perf_counter() - started) / 1_000 < 0.001


def test_box_does_not_show_its_keys() -> None:
    key = new_key()
    assert key not in repr(SecretBox([key]))


def test_parse_keys() -> None:
    one, two = new_key(), new_key()
    assert parse_keys(one) == [one]
    assert parse_keys(f"{one},{two}") == [one, two]
    assert parse_keys(f" {one} , {two},\n") == [one, two]


def test_parse_keys_names_the_bad_key_without_showing_it() -> None:
    good = new_key()
    bad = "c2hvcnQta2V5LXRoYXQtaXMtbm90LTMyLWJ5dGVz"
    with pytest.raises(InvalidKeys) as caught:
        parse_keys(f"{good},{bad}")
    message = str(caught.value)
    assert "key 2 of 2" in message
    assert bad not in message and good not in message
    assert "\n" not in message


@pytest.mark.parametrize("value", ["", " , ", "not-base64!!", "é" * 44])
def test_parse_keys_refuses(value: str) -> None:
    with pytest.raises(InvalidKeys):
        parse_keys(value)


def test_box_refuses_no_keys_and_bad_keys() -> None:
    with pytest.raises(InvalidKeys):
        SecretBox([])
    with pytest.raises(InvalidKeys, match="key 1 of 1"):
        SecretBox(["nope"])


def test_keys_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "otp_keys"
    keys = load_or_create_keys(path)
    assert len(keys) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_keys(path) == keys
    token = SecretBox(keys).encrypt(b"kept")
    assert SecretBox(load_or_create_keys(path)).decrypt(token) == b"kept"


def test_keys_file_may_hold_several_keys(tmp_path: Path) -> None:
    one, two = new_key(), new_key()
    path = tmp_path / "otp_keys"
    path.write_text(f"{one}\n{two}\n")
    assert load_or_create_keys(path) == [one, two]
    path.write_text(f"{one},{two}")
    assert load_or_create_keys(path) == [one, two]


def test_bad_keys_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "otp_keys"
    path.write_text("garbage\n")
    with pytest.raises(InvalidKeys, match="otp_keys.*key 1 of 1"):
        load_or_create_keys(path)


def test_empty_keys_file_written_by_another_process_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "otp_keys"
    path.touch(mode=0o600)
    key = new_key()
    writer = threading.Timer(0.1, lambda: path.write_text(key + "\n"))
    writer.start()
    try:
        assert load_or_create_keys(path) == [key]
    finally:
        writer.join()


def test_keys_file_left_empty_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "otp_keys"
    path.touch()
    with pytest.raises(InvalidKeys, match="empty"):
        load_or_create_keys(path)


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "otp_keys"
    results: list[list[str]] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(load_or_create_keys(path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(result == results[0] for result in results)
    assert load_or_create_keys(path) == results[0]
