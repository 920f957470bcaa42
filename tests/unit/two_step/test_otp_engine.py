"""The OTP engine against the RFC test vectors and the console's own rules."""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET  # noqa: S405 - parses only markup this suite generated
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from security import otp
from security.otp import InvalidSecret, OtpParams, TotpMatch

RFC_SEED_SHA1 = b"12345678901234567890"
RFC_SEED_SHA256 = b"12345678901234567890123456789012"
RFC_SEED_SHA512 = b"1234567890" * 6 + b"1234"

HOTP = OtpParams(kind="hotp")
TOTP = OtpParams(kind="totp")
# A fixed instant in the middle of step NOW_STEP (30-second steps).
NOW = datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC)
NOW_STEP = int(NOW.timestamp()) // 30

RFC4226_CODES = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]

RFC6238_CODES = [
    (59, "SHA1", "94287082"),
    (59, "SHA256", "46119246"),
    (59, "SHA512", "90693936"),
    (1111111109, "SHA1", "07081804"),
    (1111111109, "SHA256", "68084774"),
    (1111111109, "SHA512", "25091201"),
    (1111111111, "SHA1", "14050471"),
    (1111111111, "SHA256", "67062674"),
    (1111111111, "SHA512", "99943326"),
    (1234567890, "SHA1", "89005924"),
    (1234567890, "SHA256", "91819424"),
    (1234567890, "SHA512", "93441116"),
    (2000000000, "SHA1", "69279037"),
    (2000000000, "SHA256", "90698825"),
    (2000000000, "SHA512", "38618901"),
    (20000000000, "SHA1", "65353130"),
    (20000000000, "SHA256", "77737706"),
    (20000000000, "SHA512", "47863826"),
]
RFC6238_SEEDS = {"SHA1": RFC_SEED_SHA1, "SHA256": RFC_SEED_SHA256, "SHA512": RFC_SEED_SHA512}


def totp_code(step: int, params: OtpParams = TOTP, secret: bytes = RFC_SEED_SHA1) -> str:
    return otp.code_at_counter(secret, params, step)


def verify(code: str, **kwargs: object) -> TotpMatch | None:
    options: dict[str, object] = {"last_step": None, "drift": 0, "window": 1, **kwargs}
    return otp.verify_totp(RFC_SEED_SHA1, TOTP, code, NOW, **options)  # type: ignore[arg-type]


# --- RFC vectors -------------------------------------------------------------


@pytest.mark.parametrize("counter", range(10))
def test_rfc4226_appendix_d_codes(counter: int) -> None:
    assert otp.code_at_counter(RFC_SEED_SHA1, HOTP, counter) == RFC4226_CODES[counter]
    assert (
        otp.verify_hotp(RFC_SEED_SHA1, HOTP, RFC4226_CODES[counter], counter=counter, window=0)
        == counter
    )


@pytest.mark.parametrize(("unix", "algorithm", "code"), RFC6238_CODES)
def test_rfc6238_appendix_b_codes(unix: int, algorithm: str, code: str) -> None:
    params = OtpParams(kind="totp", digits=8, algorithm=algorithm)  # type: ignore[arg-type]
    now = datetime.fromtimestamp(unix, tz=UTC)
    match = otp.verify_totp(
        RFC6238_SEEDS[algorithm], params, code, now, last_step=None, drift=0, window=0
    )
    assert match == TotpMatch(step=unix // 30, drift=0)


def test_totp_step_uses_t0_and_period() -> None:
    params = OtpParams(kind="totp", period=60, t0=1_000)
    assert otp.totp_step(params, datetime.fromtimestamp(1_000 + 59, tz=UTC)) == 0
    assert otp.totp_step(params, datetime.fromtimestamp(1_000 + 60, tz=UTC)) == 1
    assert otp.totp_step(TOTP, datetime.fromtimestamp(59.999, tz=UTC)) == 1


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        otp.totp_step(TOTP, datetime(2024, 5, 1, 12, 0))


# --- TOTP window, drift, replay ---------------------------------------------


def test_current_code_is_accepted_with_no_drift() -> None:
    assert verify(totp_code(NOW_STEP)) == TotpMatch(step=NOW_STEP, drift=0)


def test_window_edges() -> None:
    assert verify(totp_code(NOW_STEP + 2), window=2) == TotpMatch(NOW_STEP + 2, 2)
    assert verify(totp_code(NOW_STEP - 2), window=2) == TotpMatch(NOW_STEP - 2, -2)
    assert verify(totp_code(NOW_STEP + 3), window=2) is None
    assert verify(totp_code(NOW_STEP - 3), window=2) is None


def test_drift_is_learned_and_then_followed() -> None:
    learned = verify(totp_code(NOW_STEP - 3), window=3)
    assert learned == TotpMatch(step=NOW_STEP - 3, drift=-3)

    later = NOW + timedelta(minutes=10)
    later_step = NOW_STEP + 20
    for offset in (-4, -3, -2):
        match = otp.verify_totp(
            RFC_SEED_SHA1,
            TOTP,
            totp_code(later_step + offset),
            later,
            last_step=learned.step,
            drift=learned.drift,
            window=1,
        )
        assert match == TotpMatch(step=later_step + offset, drift=offset)
    # Around the learned drift, not around our clock: our own step is now too far.
    assert (
        otp.verify_totp(
            RFC_SEED_SHA1,
            TOTP,
            totp_code(later_step),
            later,
            last_step=learned.step,
            drift=learned.drift,
            window=1,
        )
        is None
    )


def test_same_step_is_refused_the_second_time() -> None:
    code = totp_code(NOW_STEP)
    first = verify(code)
    assert first is not None
    assert verify(code, last_step=first.step) is None


def test_earlier_step_is_refused_after_a_later_one() -> None:
    assert verify(totp_code(NOW_STEP - 1), last_step=NOW_STEP) is None
    assert verify(totp_code(NOW_STEP + 1), last_step=NOW_STEP) == TotpMatch(NOW_STEP + 1, 1)


def _colliding_steps() -> tuple[int, int]:
    """Find two nearby steps whose six-digit codes are equal."""
    seen: dict[str, int] = {}
    best: tuple[int, int] | None = None
    for step in range(20_000):
        code = totp_code(step)
        if code in seen and (best is None or step - seen[code] < best[1] - best[0]):
            best = (seen[code], step)
        seen[code] = step
    assert best is not None
    return best


def test_nearest_step_wins_when_several_match() -> None:
    early, late = _colliding_steps()
    code = totp_code(early)
    at_late = datetime.fromtimestamp(late * 30, tz=UTC)
    gap = late - early

    def check(**kwargs: int) -> TotpMatch | None:
        options: dict[str, int | None] = {"last_step": None, **kwargs}
        return otp.verify_totp(RFC_SEED_SHA1, TOTP, code, at_late, **options)  # type: ignore[arg-type]

    assert check(drift=0, window=gap) == TotpMatch(late, 0)
    assert check(drift=-gap, window=gap) == TotpMatch(early, -gap)
    # The nearer step is spent already: the other one is still a valid match.
    assert check(drift=-gap, window=gap, last_step=early) == TotpMatch(late, 0)


def test_malformed_codes_are_refused_without_error() -> None:
    for code in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12345\u00e9"):
        assert verify(code) is None
    assert verify(" " + totp_code(NOW_STEP)[:3] + " " + totp_code(NOW_STEP)[3:]) is not None


def test_totp_params_are_required_for_totp() -> None:
    with pytest.raises(ValueError, match="TOTP"):
        otp.verify_totp(RFC_SEED_SHA1, HOTP, "123456", NOW, last_step=None, drift=0, window=1)


# --- HOTP window and counter ---------------------------------------------------


def test_hotp_look_ahead_edge() -> None:
    assert otp.verify_hotp(RFC_SEED_SHA1, HOTP, RFC4226_CODES[7], counter=2, window=5) == 7
    assert otp.verify_hotp(RFC_SEED_SHA1, HOTP, RFC4226_CODES[8], counter=2, window=5) is None


def test_hotp_counter_never_goes_back() -> None:
    assert otp.verify_hotp(RFC_SEED_SHA1, HOTP, RFC4226_CODES[3], counter=4, window=10) is None
    matched = otp.verify_hotp(RFC_SEED_SHA1, HOTP, RFC4226_CODES[4], counter=4, window=10)
    assert matched == 4
    # The caller stores matched + 1; the same code is then spent.
    assert (
        otp.verify_hotp(RFC_SEED_SHA1, HOTP, RFC4226_CODES[4], counter=matched + 1, window=10)
        is None
    )


def test_hotp_sync_far_ahead_spends_both_codes() -> None:
    secret = otp.new_secret()
    c = 12_000
    code1 = otp.code_at_counter(secret, HOTP, c)
    code2 = otp.code_at_counter(secret, HOTP, c + 1)
    started = time.perf_counter()
    spent = otp.synchronize_hotp(secret, HOTP, code1, code2, counter=0)
    elapsed = time.perf_counter() - started
    assert spent == c + 1
    assert otp.verify_hotp(secret, HOTP, code2, counter=c + 2, window=10) is None
    assert otp.verify_hotp(secret, HOTP, code1, counter=c + 2, window=10) is None
    assert elapsed < 1.0  # generous for slow CI; about 40 ms on a laptop


def test_hotp_sync_limits() -> None:
    secret = otp.new_secret()
    code = [otp.code_at_counter(secret, HOTP, n) for n in range(30)]
    # code1 at the last counter searched, code2 just after it.
    assert otp.synchronize_hotp(secret, HOTP, code[9], code[10], counter=0, max_lookahead=10) == 10
    assert (
        otp.synchronize_hotp(secret, HOTP, code[10], code[11], counter=0, max_lookahead=10) is None
    )
    # Never behind the stored counter, and the order matters.
    assert otp.synchronize_hotp(secret, HOTP, code[3], code[4], counter=4) is None
    assert otp.synchronize_hotp(secret, HOTP, code[5], code[4], counter=0, max_lookahead=30) is None


def test_hotp_sync_full_search_is_fast_enough() -> None:
    secret = otp.new_secret()
    started = time.perf_counter()
    assert otp.synchronize_hotp(secret, HOTP, "a", "b", counter=0) is None  # malformed: instant
    otp.synchronize_hotp(secret, HOTP, "000000", "000000", counter=0)
    assert time.perf_counter() - started < 1.0


# --- TOTP synchronisation --------------------------------------------------------


def test_totp_sync_far_behind() -> None:
    secret = otp.new_secret()
    s = NOW_STEP - 150
    match = otp.synchronize_totp(
        secret, TOTP, totp_code(s, secret=secret), totp_code(s + 1, secret=secret), NOW
    )
    assert match == TotpMatch(step=s + 1, drift=-149)
    assert otp.clock_offset_seconds(match, TOTP) == -149 * 30
    # Both codes are spent once the caller stores the step.
    for code in (totp_code(s, secret=secret), totp_code(s + 1, secret=secret)):
        assert (
            otp.verify_totp(
                secret, TOTP, code, NOW, last_step=match.step, drift=match.drift, window=2
            )
            is None
        )


def test_totp_sync_limits_and_replay() -> None:
    secret = otp.new_secret()

    def sync(s: int, **kwargs: int) -> TotpMatch | None:
        return otp.synchronize_totp(
            secret,
            TOTP,
            totp_code(s, secret=secret),
            totp_code(s + 1, secret=secret),
            NOW,
            **kwargs,  # type: ignore[arg-type]
        )

    assert sync(NOW_STEP + 179) == TotpMatch(NOW_STEP + 180, 180)
    assert sync(NOW_STEP + 180) is None
    assert sync(NOW_STEP - 180) == TotpMatch(NOW_STEP - 179, -179)
    assert sync(NOW_STEP - 181) is None
    assert sync(NOW_STEP, last_step=NOW_STEP) is None
    assert sync(NOW_STEP, last_step=NOW_STEP - 1) == TotpMatch(NOW_STEP + 1, 1)


# --- clock offset wording ---------------------------------------------------------


def test_describe_clock_offset() -> None:
    assert otp.describe_clock_offset(0, 30) is None
    assert otp.describe_clock_offset(-1, 30) is None
    assert otp.describe_clock_offset(1, 30) is None
    assert otp.describe_clock_offset(-3, 30) == "your phone's clock is about 90 seconds behind"
    assert otp.describe_clock_offset(2, 30) == "your phone's clock is about 60 seconds ahead"
    assert otp.describe_clock_offset(10, 30) == "your phone's clock is about 5 minutes ahead"
    assert otp.describe_clock_offset(-180, 30) == "your phone's clock is about 90 minutes behind"
    assert otp.describe_clock_offset(-240, 60) == "your phone's clock is about 4 hours behind"


# --- secrets --------------------------------------------------------------------


def test_new_secret_is_random_and_20_bytes() -> None:
    assert len(otp.new_secret()) == otp.SECRET_BYTES == 20
    assert otp.new_secret() != otp.new_secret()


def test_secret_for_display_groups_of_four_without_padding() -> None:
    assert otp.secret_for_display(b"Hello!\xde\xad\xbe\xef") == "JBSW Y3DP EHPK 3PXP"
    assert otp.secret_for_display(RFC_SEED_SHA1) == "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
    shown = otp.secret_for_display(otp.new_secret())
    assert "=" not in shown and len(shown.replace(" ", "")) == 32


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("3132333435363738393031323334353637383930", RFC_SEED_SHA1, "hex"),
        ("31 32 33 34 35 36 37 38 39 30 31 32 33 34 35 36 37 38 39 30", RFC_SEED_SHA1, "hex"),
        ("31:32:33:34:35:36:37:38:39:30:31:32:33:34:35:36:37:38:39:30", RFC_SEED_SHA1, "hex"),
        ("DEADBEEFDEADBEEFDEADBEEF", bytes.fromhex("DEADBEEF" * 3), "hex"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", RFC_SEED_SHA1, "base32"),
        ("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", RFC_SEED_SHA1, "base32"),
        ("JBSWY3DPEHPK3PXPJBSW====", b"Hello!\xde\xad\xbe\xefHe", "base32"),
        ("JBSWY3DPEHPK3PXPJBSW", b"Hello!\xde\xad\xbe\xefHe", "base32"),
    ],
)
def test_parse_hardware_secret(text: str, expected: bytes, kind: str) -> None:
    assert otp.parse_hardware_secret(text) == (expected, kind)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the secret"),
        ("   ", "Enter the secret"),
        ("0123456789abcdef012", "even number"),
        ("0123456789abcdef01", "too short"),
        ("JBSWY3DPEHPK3PX", "too short"),
        ("JBSWY3DPEHPK3PXPJ", "wrong length"),
        ("ab" * 65, "too long"),
        ("not a secret!", "hexadecimal"),
        ("GEZD:GNBV:GY3T", "hexadecimal"),
    ],
)
def test_parse_hardware_secret_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidSecret, match=message):
        otp.parse_hardware_secret(text)


def test_parse_hardware_secret_length_bounds() -> None:
    assert len(otp.parse_hardware_secret("ab" * 10)[0]) == 10
    assert len(otp.parse_hardware_secret("ab" * 64)[0]) == 64


def test_default_algorithm_for_secret() -> None:
    assert otp.default_algorithm_for_secret(b"x" * 20) == "SHA1"
    assert otp.default_algorithm_for_secret(b"x" * 25) == "SHA1"
    assert otp.default_algorithm_for_secret(b"x" * 26) == "SHA256"


def test_eight_digit_sha256_hardware_token() -> None:
    secret, kind = otp.parse_hardware_secret(RFC_SEED_SHA256.hex().upper())
    assert kind == "hex"
    params = OtpParams(kind="totp", digits=8, algorithm=otp.default_algorithm_for_secret(secret))
    assert params.algorithm == "SHA256"
    now = datetime.fromtimestamp(1234567890, tz=UTC)
    assert otp.verify_totp(
        secret, params, "9181 9424", now, last_step=None, drift=0, window=1
    ) == TotpMatch(1234567890 // 30, 0)
    # A six-digit code cannot satisfy an eight-digit token.
    assert otp.verify_totp(secret, params, "819424", now, last_step=None, drift=0, window=1) is None


def test_hardware_token_with_t0_and_short_secret() -> None:
    secret, _ = otp.parse_hardware_secret("00112233445566778899")
    params = OtpParams(kind="totp", period=60, t0=1_700_000_000)
    now = datetime.fromtimestamp(1_700_000_000 + 600, tz=UTC)
    code = otp.code_at_counter(secret, params, 10)
    assert otp.verify_totp(
        secret, params, code, now, last_step=None, drift=0, window=0
    ) == TotpMatch(10, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "sms"},
        {"kind": "totp", "digits": 5},
        {"kind": "totp", "digits": 9},
        {"kind": "totp", "period": 0},
        {"kind": "totp", "t0": -1},
        {"kind": "totp", "algorithm": "MD5"},
    ],
)
def test_otp_params_refuse_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        OtpParams(**kwargs)  # type: ignore[arg-type]


# --- codes as typed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456", "123456"),
        ("123 456", "123456"),
        (" 1234 5678 ", "12345678"),
        ("12345", None),
        ("1234567", None),
        ("12345a", None),
        ("", None),
        ("١٢٣٤٥٦", None),
        ("123-456", None),
    ],
)
def test_normalize_code(text: str, expected: str | None) -> None:
    assert otp.normalize_code(text) == expected


def test_normalize_code_permitted_lengths() -> None:
    assert otp.normalize_code("12345678", digits_allowed=(6,)) is None
    assert otp.normalize_code("1234567", digits_allowed=(7,)) == "1234567"


# --- provisioning ----------------------------------------------------------------


def test_provisioning_uri_totp_exact() -> None:
    uri = otp.provisioning_uri(RFC_SEED_SHA1, TOTP, "ACME Corp", "j.doe@example.com")
    assert uri == (
        "otpauth://totp/ACME%20Corp:j.doe%40example.com"
        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Corp"
        "&algorithm=SHA1&digits=6&period=30"
    )


def test_provisioning_uri_hotp_and_awkward_names() -> None:
    params = OtpParams(kind="hotp", digits=8, algorithm="SHA256")
    uri = otp.provisioning_uri(b"Hello!\xde\xad\xbe\xef", params, "A&B: Ltd", "a/b?c", counter=7)
    assert uri == (
        "otpauth://hotp/A%26B%3A%20Ltd:a%2Fb%3Fc"
        "?secret=JBSWY3DPEHPK3PXP&issuer=A%26B%3A%20Ltd"
        "&algorithm=SHA256&digits=8&counter=7"
    )
    parts = urlsplit(uri)
    assert dict(parse_qsl(parts.query))["issuer"] == "A&B: Ltd"


def test_provisioning_uri_secret_decodes_back() -> None:
    secret = otp.new_secret()
    query = dict(parse_qsl(urlsplit(otp.provisioning_uri(secret, TOTP, "X", "y")).query))
    assert base64.b32decode(query["secret"]) == secret


def test_provisioning_uri_refuses_t0() -> None:
    with pytest.raises(ValueError, match="t0"):
        otp.provisioning_uri(RFC_SEED_SHA1, OtpParams(kind="totp", t0=5), "X", "y")


# --- QR code ---------------------------------------------------------------------

SVG_NS = "{http://www.w3.org/2000/svg}"


def test_qr_svg_is_inline_scalable_and_style_free() -> None:
    markup = otp.qr_svg(otp.provisioning_uri(otp.new_secret(), TOTP, "ACME", "jdoe"))
    assert markup.startswith("<svg")
    assert "<?xml" not in markup
    root = ET.fromstring(markup)  # noqa: S314 - our own markup
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox")
    assert root.get("width") is None and root.get("height") is None
    assert root.get("role") == "img"
    assert root.get("aria-label")
    for element in root.iter():
        assert "style" not in element.attrib
        assert "id" not in element.attrib
    assert root.find(f"{SVG_NS}path") is not None


# --- real tools, when the machine has them -----------------------------------


def test_oathtool_code_is_accepted() -> None:
    if shutil.which("oathtool") is None:
        pytest.skip("oathtool is not installed")
    secret = otp.new_secret()
    b32 = otp.secret_for_display(secret).replace(" ", "")
    now = datetime.now(UTC)
    code = subprocess.run(
        ["oathtool", "--totp", "-b", b32], check=True, capture_output=True, text=True
    ).stdout.strip()
    # window=1 absorbs a step boundary between oathtool's clock read and ours.
    assert otp.verify_totp(secret, TOTP, code, now, last_step=None, drift=0, window=1)


def test_oathtool_hotp_and_sha256_agree() -> None:
    if shutil.which("oathtool") is None:
        pytest.skip("oathtool is not installed")
    secret = otp.new_secret()
    params = OtpParams(kind="totp", digits=8, algorithm="SHA256")
    code = subprocess.run(
        ["oathtool", "--totp=sha256", "--digits=8", "--now=2009-02-13 23:31:30 UTC", secret.hex()],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert code == otp.code_at_counter(secret, params, 1234567890 // 30)
    hotp = subprocess.run(
        ["oathtool", "--hotp", "--counter=12345", secret.hex()],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert hotp == otp.code_at_counter(secret, HOTP, 12345)


def test_qr_svg_decodes_to_the_uri(tmp_path: Path) -> None:
    if shutil.which("zbarimg") is None or shutil.which("rsvg-convert") is None:
        pytest.skip("zbarimg and rsvg-convert are needed to decode the QR code")
    uri = otp.provisioning_uri(otp.new_secret(), TOTP, "ACME Corp", "j.doe@example.com")
    svg = tmp_path / "qr.svg"
    png = tmp_path / "qr.png"
    svg.write_text(otp.qr_svg(uri), encoding="utf-8")
    subprocess.run(["rsvg-convert", "-w", "400", "-o", str(png), str(svg)], check=True)
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert decoded == uri
