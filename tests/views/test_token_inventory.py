"""The hardware token inventory: vendor files in, tokens assigned by their codes, taken back.

The seeds are checked the way a token would be: codes computed by oathtool (an
independent implementation of RFC 4226/6238) from the seeds the RFC says the files hold
must connect the imported tokens through the user's two-step tab.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from extensions import db
from models import HardwareToken, OtpDevice
from security import keys
from security.messages import message
from tests.support import events_of, snapshot, without_events

DATA = Path(__file__).resolve().parent.parent / "data"
FIGURE2 = DATA / "rfc6030-figure2.pskcxml"  # plain, HOTP, seed "1234", key Id 12345678
FIGURE6 = DATA / "rfc6030-figure6.pskcxml"  # pre-shared AES-128 key, MAC, serial 987654321
FIGURE7 = DATA / "rfc6030-figure7.pskcxml"  # PBKDF2 from "qwerty", MAC, serial 987654321
PRESHARED_KEY = "12345678901234567890123456789012"
PASSWORD = "qwerty"
# The seeds, as RFC 6030 states them next to each figure (hex).
SEED_FIGURE2 = b"1234".hex()
SEED_FIGURE6 = b"12345678901234567890".hex()
SEED_FIGURE7 = b"12345678901234567890".hex()
CSV_TOTP_SEED = "3132333435363738393031323334353637383930"
CSV_BASE32_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CSV_FILE = (
    "serial,secret,type,digits,period,counter\n"
    f"CSV-T1,{CSV_TOTP_SEED},totp,6,30,0\n"
    f"CSV-H1,{CSV_BASE32_SEED},hotp,6,,5\n"
    f"CSV-T2,{CSV_BASE32_SEED},totp,8,60,\n"
).encode()

OATHTOOL = shutil.which("oathtool")
needs_oathtool = pytest.mark.skipif(OATHTOOL is None, reason="oathtool is not installed")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage><DeviceInfo><SerialNo>&lol9;</SerialNo></DeviceInfo>
    <Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data>
    </Key></KeyPackage>
</KeyContainer>
"""


def _external_entity(path: Path) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [ <!ENTITY xxe SYSTEM "file://{path}"> ]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage><DeviceInfo><SerialNo>&xxe;</SerialNo></DeviceInfo>
    <Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data>
    </Key></KeyPackage>
</KeyContainer>
""".encode()


# --- helpers --------------------------------------------------------------------------------------


def _text(response: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def _upload(client: FlaskClient, data: bytes, name: str = "tokens.pskcxml", **fields: str) -> Any:
    return client.post(
        "/admin/security/tokens/import",
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def _tokens() -> dict[str, HardwareToken]:
    db.session.expire_all()
    return {token.serial: token for token in db.session.scalars(select(HardwareToken))}


def _oath(*arguments: str) -> list[str]:
    assert OATHTOOL is not None
    result = subprocess.run(  # noqa: S603 - a fixed program, arguments of the test's own
        [OATHTOOL, *arguments], capture_output=True, text=True, check=True, timeout=10
    )
    return result.stdout.split()


def _hotp_codes(seed_hex: str, digits: int, counter: int = 0) -> list[str]:
    """Two consecutive HOTP codes from `counter`, by oathtool."""
    return _oath("--hotp", "-d", str(digits), "-c", str(counter), "-w", "1", seed_hex)


def _totp_code(seed_hex: str, digits: int = 6, period: int = 30) -> str:
    return _oath("--totp", "-d", str(digits), "-s", f"{period}s", seed_hex)[0]


def _assign(client: FlaskClient, user: Any, serial: str, code: str, code2: str = "") -> Any:
    return client.post(
        f"/admin/users/{user.id}/otp/connect",
        data={"source": "inventory", "serial": serial, "code": code, "code2": code2},
    )


def _rows(response: Any) -> dict[str, str]:
    return dict(
        re.findall(
            r'<tr data-token-serial="([^"]+)" data-token-state="([a-z]+)">',
            response.get_data(as_text=True),
        )
    )


@pytest.fixture
def on(two_step_on: Any) -> Any:
    return two_step_on()


# --- import: the RFC's files and CSV --------------------------------------------------------------


@needs_oathtool
@pytest.mark.parametrize(
    ("path", "fields", "serial", "seed", "digits"),
    [
        (FIGURE2, {}, "12345678", SEED_FIGURE2, 6),
        (FIGURE6, {"key": PRESHARED_KEY}, "987654321", SEED_FIGURE6, 8),
        (FIGURE7, {"password": PASSWORD}, "987654321", SEED_FIGURE7, 8),
    ],
    ids=["figure2-plain", "figure6-preshared-key", "figure7-password"],
)
def test_rfc6030_files_import_the_seeds_that_oathtool_codes_connect(
    on: Any,
    admin_client: FlaskClient,
    employee: Any,
    path: Path,
    fields: dict[str, str],
    serial: str,
    seed: str,
    digits: int,
) -> None:
    response = _upload(admin_client, path.read_bytes(), **fields)
    assert response.status_code == 303
    listing = admin_client.get(response.headers["Location"])
    assert message("tokens.imported", count=1) in _text(listing)
    assert _rows(listing) == {serial: "unassigned"}
    token = _tokens()[serial]
    assert (token.kind, token.digits, token.counter) == ("hotp", digits, 0)
    # Encrypted at rest like a device's secret; the seed is what the RFC says.
    assert token.secret_encrypted and seed not in repr(snapshot())
    assert keys.secret_box().decrypt(token.secret_encrypted).hex() == seed

    first, second = _hotp_codes(seed, digits)
    connected = _assign(admin_client, employee, serial, first, second)
    assert connected.status_code == 200, _text(connected)
    assert 'class="recovery-codes"' in connected.get_data(as_text=True)
    token = _tokens()[serial]
    assert (token.state, token.user_id) == ("assigned", employee.id)
    device = db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == employee.id))
    assert device is not None and device.id == token.device_id
    # Both codes are spent: the device expects the counter after them.
    assert (device.kind, device.source, device.counter, device.digits) == (
        "hotp",
        "hardware",
        2,
        digits,
    )
    assert _rows(admin_client.get("/admin/security/tokens")) == {serial: "assigned"}
    [assigned] = events_of("token_assigned")
    assert (assigned.actor_login, assigned.subject_login) == ("admin", "employee")
    assert f"serial={serial}" in assigned.details
    assert events_of("tokens_imported")[0].details == "count=1"


@needs_oathtool
def test_a_csv_file_imports_hex_and_base32_seeds(
    on: Any, admin_client: FlaskClient, employee: Any, make_user: Any
) -> None:
    response = _upload(admin_client, CSV_FILE, "tokens.csv")
    assert response.status_code == 303
    tokens = _tokens()
    assert set(tokens) == {"CSV-T1", "CSV-H1", "CSV-T2"}
    assert (tokens["CSV-H1"].kind, tokens["CSV-H1"].counter) == ("hotp", 5)
    assert (tokens["CSV-T2"].digits, tokens["CSV-T2"].period) == (8, 60)
    box = keys.secret_box()
    base32_hex = _oath("-v", "--totp", "-b", CSV_BASE32_SEED)  # oathtool reads Base32 itself
    hex_line = next(word for word in base32_hex if len(word) == 40 and word.isalnum())
    assert box.decrypt(tokens["CSV-H1"].secret_encrypted or "").hex() == hex_line.lower()

    # A TOTP token: one code. An HOTP token: two codes from its counter in the file.
    assert _assign(admin_client, employee, "CSV-T1", _totp_code(CSV_TOTP_SEED)).status_code == 200
    other = make_user("other")
    first, second = _hotp_codes(hex_line, 6, counter=5)
    assert _assign(admin_client, other, "CSV-H1", first, second).status_code == 200
    device = db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == other.id))
    assert device is not None and device.counter == 7


def test_a_vendor_file_larger_than_a_form_body_imports_whole(admin_client: FlaskClient) -> None:
    # 5,000 tokens, about 320 kB: more than an ordinary form may send, less than a file may.
    lines = [f"BULK-{n:05d},{CSV_TOTP_SEED},totp,6,30,0" for n in range(4000)]
    data = ("\n".join(lines) + "\n").encode()
    data += b"".join(
        b"BULK-PAD-%05d,%s,hotp,6,,\n" % (n, CSV_TOTP_SEED.encode()) for n in range(1000)
    )
    assert len(data) > 256 * 1024
    response = _upload(admin_client, data, "bulk.csv")
    assert response.status_code == 303
    assert len(_tokens()) == 5000


def test_one_bad_entry_imports_nothing_and_names_it(
    admin_client: FlaskClient,
) -> None:
    bad = CSV_FILE + b"CSV-BAD,not a secret!,totp,6,30,0\nCSV-X,ABCDEF,sometimes,6,30,0\n"
    before = without_events(snapshot())
    response = _upload(admin_client, bad, "tokens.csv")
    assert response.status_code == 400
    text = _text(response)
    assert message("tokens.import_refused", count=2) in text
    assert "Line 5: " + message("tokens.problem.secret_format") in text
    assert "Line 6: " + message("tokens.problem.type_unsupported", type="sometimes") in text
    assert without_events(snapshot()) == before
    assert _tokens() == {}
    [refused] = events_of("tokens_import_refused")
    assert refused.outcome == "failure" and "problems=2" in refused.details


def test_a_serial_in_the_inventory_or_twice_in_the_file_is_refused(
    admin_client: FlaskClient,
) -> None:
    assert _upload(admin_client, FIGURE6.read_bytes(), key=PRESHARED_KEY).status_code == 303
    # Figure 7 is the same token (serial 987654321) under a password.
    again = _upload(admin_client, FIGURE7.read_bytes(), password=PASSWORD)
    assert again.status_code == 400
    assert message("tokens.problem.serial_known", serial="987654321") in _text(again)
    twice = b"A1,%s,totp\nA1,%s,hotp\n" % (CSV_TOTP_SEED.encode(), CSV_TOTP_SEED.encode())
    response = _upload(admin_client, twice, "t.csv")
    assert response.status_code == 400
    assert "Line 2: " + message("tokens.problem.serial_twice", serial="A1") in _text(response)
    assert set(_tokens()) == {"987654321"}


@pytest.mark.parametrize(
    ("path", "fields", "problem"),
    [
        (FIGURE6, {"key": "00" * 16}, "tokens.problem.key_wrong"),
        (FIGURE6, {}, "tokens.problem.key_needed"),
        (FIGURE6, {"key": "12345"}, "tokens.problem.key_format"),
        (FIGURE7, {"password": "qwertz"}, "tokens.problem.password_wrong"),
        (FIGURE7, {}, "tokens.problem.password_needed"),
    ],
)
def test_a_wrong_or_missing_key_or_password_is_refused_clearly(
    admin_client: FlaskClient, path: Path, fields: dict[str, str], problem: str
) -> None:
    response = _upload(admin_client, path.read_bytes(), **fields)
    assert response.status_code == 400
    assert message(problem) in _text(response)
    assert _tokens() == {}


@pytest.mark.parametrize("kind", ["billion-laughs", "external-entity"])
def test_xml_with_entities_or_external_references_is_refused(
    admin_client: FlaskClient, tmp_path: Path, kind: str
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-SERIAL")
    data = BILLION_LAUGHS if kind == "billion-laughs" else _external_entity(secret_file)
    response = _upload(admin_client, data)
    assert response.status_code == 400
    assert message("tokens.problem.xml_unsafe") in _text(response)
    assert "TOP-SECRET-SERIAL" not in response.get_data(as_text=True)
    assert _tokens() == {}


def test_an_empty_or_missing_file_is_refused_next_to_the_field(admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/security/tokens/import", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert message("tokens.file_needed") in _text(response)
    both = _upload(admin_client, FIGURE6.read_bytes(), key=PRESHARED_KEY, password=PASSWORD)
    assert both.status_code == 400
    assert _tokens() == {}


# --- the command line -----------------------------------------------------------------------------


def test_cli_imports_and_prints_the_count(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(args=["tokens", "import", str(FIGURE7), "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "imported 1 tokens"
    assert set(_tokens()) == {"987654321"}
    assert _tokens()["987654321"].imported_by == ""
    result = runner.invoke(args=["tokens", "import", str(FIGURE2)])
    assert result.exit_code == 0 and "imported 1 tokens" in result.output


def test_cli_prints_the_errors_and_exits_non_zero(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(CSV_FILE + b"CSV-BAD,zz!,totp,7,30,0\n")
    result = runner.invoke(args=["tokens", "import", str(bad)])
    assert result.exit_code != 0
    assert "Line 5: " + message("tokens.problem.secret_format") in result.output
    assert "nothing imported" in result.output
    result = runner.invoke(args=["tokens", "import", str(FIGURE6), "--key", "00" * 16])
    assert result.exit_code != 0
    assert message("tokens.problem.key_wrong") in result.output
    assert _tokens() == {}


# --- the list -------------------------------------------------------------------------------------


def test_the_list_filters_by_state_and_searches_serials(admin_client: FlaskClient) -> None:
    _upload(admin_client, CSV_FILE, "t.csv")
    token = _tokens()["CSV-T2"]
    assert (
        admin_client.post(
            f"/admin/security/tokens/{token.id}/return", data={"to": "lost"}
        ).status_code
        == 303
    )
    everything = admin_client.get("/admin/security/tokens")
    assert _rows(everything) == {"CSV-H1": "unassigned", "CSV-T1": "unassigned", "CSV-T2": "lost"}
    page = everything.get_data(as_text=True)
    assert re.search(r'data-token-count="unassigned">[^<]*2<', page)
    assert re.search(r'data-token-count="lost">[^<]*1<', page)
    assert _rows(admin_client.get("/admin/security/tokens?state=lost")) == {"CSV-T2": "lost"}
    assert set(_rows(admin_client.get("/admin/security/tokens?serial=t1"))) == {"CSV-T1"}
    assert _rows(admin_client.get("/admin/security/tokens?serial=%25")) == {}
    assert admin_client.get("/admin/security/tokens?state=nonsense").status_code == 200


# --- taking a token back --------------------------------------------------------------------------


@needs_oathtool
@pytest.mark.parametrize("to", ["unassigned", "lost", "retired"])
def test_taking_back_removes_the_device_and_destroys_the_seed_unless_shelved(
    on: Any, admin_client: FlaskClient, employee: Any, to: str
) -> None:
    _upload(admin_client, FIGURE6.read_bytes(), key=PRESHARED_KEY)
    first, second = _hotp_codes(SEED_FIGURE6, 8)
    assert _assign(admin_client, employee, "987654321", first, second).status_code == 200
    token = _tokens()["987654321"]
    response = admin_client.post(f"/admin/security/tokens/{token.id}/return", data={"to": to})
    assert response.status_code == 303
    token = _tokens()["987654321"]
    assert (token.state, token.user_id, token.device_id) == (to, None, None)
    assert db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == employee.id)) is None
    if to == "unassigned":
        assert token.secret_encrypted is not None
    else:
        assert token.secret_encrypted is None
    [event] = events_of("token_unassigned")
    assert f"to={to}" in event.details and event.subject_login == "employee"
    assert events_of("otp_deleted")
    # Lost and retired are for good: neither assigned again nor taken back again.
    if to != "unassigned":
        again = _assign(admin_client, employee, "987654321", *_hotp_codes(SEED_FIGURE6, 8, 2))
        assert again.status_code == 409
        assert message("tokens.not_on_shelf") in _text(again)


@needs_oathtool
def test_wrong_codes_leave_the_token_on_the_shelf(
    on: Any, admin_client: FlaskClient, employee: Any
) -> None:
    _upload(admin_client, FIGURE6.read_bytes(), key=PRESHARED_KEY)
    first, _second = _hotp_codes(SEED_FIGURE6, 8)
    response = _assign(admin_client, employee, "987654321", first, "00000000")
    assert response.status_code == 400
    assert message("otp.codes_wrong") in _text(response)
    assert _tokens()["987654321"].state == "unassigned"
    assert db.session.scalar(select(OtpDevice).where(OtpDevice.user_id == employee.id)) is None
    assert events_of("otp_connect_failed")
    unknown = _assign(admin_client, employee, "NO-SUCH", "12345678", "12345678")
    assert unknown.status_code == 400
    assert message("tokens.unknown_serial") in _text(unknown)


@needs_oathtool
def test_removing_the_device_on_the_tab_puts_the_token_back(
    on: Any, admin_client: FlaskClient, employee: Any
) -> None:
    _upload(admin_client, FIGURE6.read_bytes(), key=PRESHARED_KEY)
    assert (
        _assign(admin_client, employee, "987654321", *_hotp_codes(SEED_FIGURE6, 8)).status_code
        == 200
    )
    response = admin_client.post(
        f"/admin/users/{employee.id}/otp/delete", data={"confirm_asked": "1", "confirm": "y"}
    )
    assert response.status_code == 303
    token = _tokens()["987654321"]
    assert (token.state, token.user_id) == ("unassigned", None)
    [returned] = events_of("token_unassigned")
    assert (returned.subject_login, returned.actor_login) == (employee.login, "admin")
    assert "987654321" in returned.details and "unassigned" in returned.details


# --- access ---------------------------------------------------------------------------------------


def test_a_helpdesk_member_uses_the_inventory_but_not_on_administrators(
    manager_client: FlaskClient, employee_client: FlaskClient, admin: Any
) -> None:
    assert manager_client.get("/admin/security/tokens").status_code == 200
    assert _upload(manager_client, CSV_FILE, "t.csv").status_code == 303
    assert employee_client.get("/admin/security/tokens").status_code == 403
    assert _upload(employee_client, CSV_FILE, "t.csv").status_code == 403
    assert (
        manager_client.get(f"/admin/users/{admin.id}/otp/connect?source=inventory").status_code
        == 403
    )


@needs_oathtool
def test_a_helpdesk_member_cannot_take_back_an_administrators_token(
    on: Any, admin_client: FlaskClient, manager_client: FlaskClient, admin: Any
) -> None:
    _upload(admin_client, CSV_FILE, "t.csv")
    assert _assign(admin_client, admin, "CSV-T1", _totp_code(CSV_TOTP_SEED)).status_code == 200
    token = _tokens()["CSV-T1"]
    refused = manager_client.post(f"/admin/security/tokens/{token.id}/return", data={"to": "lost"})
    assert refused.status_code == 403
    token = _tokens()["CSV-T1"]
    assert (token.state, token.user_id) == ("assigned", admin.id)
    assert token.secret_encrypted is not None


# --- keys -----------------------------------------------------------------------------------------


def test_rotate_keys_re_encrypts_the_seeds(app: Flask, admin_client: FlaskClient) -> None:
    from cryptography.fernet import Fernet

    from security.secret_box import load_or_create_keys

    _upload(admin_client, CSV_FILE, "t.csv")
    old_keys = load_or_create_keys(Path(app.instance_path) / "otp_keys")
    new_key = Fernet.generate_key().decode()
    keys.configure([new_key, *old_keys], keys.recovery_key())
    try:
        result = app.test_cli_runner().invoke(args=["otp", "rotate-keys"])
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 3 of 3 secrets" in result.output
        only_new = Fernet(new_key.encode())
        for token in _tokens().values():
            assert only_new.decrypt((token.secret_encrypted or "").encode())
    finally:
        keys.configure(old_keys, keys.recovery_key())


# --- one token, one user -------------------------------------------------------------------------

RACERS = 6


def _assign_in_a_process(
    settings: dict[str, Any], user_id: int, code: str, barrier: Any, results: Any
) -> None:
    from app import create_app
    from models import User, utcnow
    from security import token_inventory
    from security.otp_settings import load_settings
    from security.two_step import TwoStepError

    app = create_app(dict(settings))
    with app.app_context():
        user = db.session.get(User, user_id)
        try:
            barrier.wait(timeout=60)
        except Exception:  # noqa: BLE001 - a broken barrier still reports a result
            results.put("barrier")
            return
        try:
            token_inventory.assign(
                user, "CSV-T1", code, now=utcnow(), settings=load_settings(), actor=user, ip="t"
            )
            db.session.commit()
            results.put("assigned")
        except TwoStepError as error:
            db.session.rollback()
            results.put(error.key)


@needs_oathtool
def test_of_simultaneous_assignments_of_one_token_exactly_one_wins(
    app: Flask, on: Any, admin_client: FlaskClient, make_user: Any
) -> None:
    import multiprocessing

    _upload(admin_client, CSV_FILE, "t.csv")
    users = [make_user(f"racer{n}") for n in range(RACERS)]
    settings = {
        key: app.config[key]
        for key in (
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "PASSWORD_ARGON2_TIME_COST",
            "PASSWORD_ARGON2_MEMORY_KIB",
            "PASSWORD_ARGON2_PARALLELISM",
        )
    }
    settings.update(TESTING=True, RATELIMIT_ENABLED=False, INSTANCE_PATH=app.instance_path)
    db.session.commit()
    db.engine.dispose()  # the children must not share the parent's connections
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    code = _totp_code(CSV_TOTP_SEED)
    workers = [
        context.Process(
            target=_assign_in_a_process, args=(settings, user.id, code, barrier, results)
        )
        for user in users
    ]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes.count("assigned") == 1, outcomes
    assert set(outcomes) == {"assigned", "tokens.not_on_shelf"}, outcomes
    token = _tokens()["CSV-T1"]
    owners = db.session.scalars(select(OtpDevice.user_id)).all()
    assert token.state == "assigned" and owners == [token.user_id]
