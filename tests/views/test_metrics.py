"""GET /metrics: the counts move as people sign in; who may read them; nothing personal."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from models import utcnow
from tests.support import DEFAULT_PASSWORD, hotp_code, totp_code
from tests.support.metrics import Samples, label_values, parse_metrics, value

SIGN_INS = "console_sign_ins_total"
SECOND_STEP = "console_second_step_total"
LOCKS = "console_locks_total"


def scrape(client: Any, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(response.get_data(as_text=True))


def moved(before: Samples, after: Samples) -> dict[tuple[str, str], float]:
    """The counters of sign-ins, second steps and locks that changed, by name and outcome."""
    changes = {}
    for key, number in after.items():
        name, labels = key
        if name in (SIGN_INS, SECOND_STEP, LOCKS) and number != before.get(key, 0.0):
            changes[(name, dict(labels).get("outcome", ""))] = number - before.get(key, 0.0)
    return changes


def password(client: Any, login: str = "employee", password: str = DEFAULT_PASSWORD) -> Any:
    return client.post("/login", data={"login": login, "password": password})


def code(client: Any, text: str) -> Any:
    return client.post("/login/otp", data={"code": text})


def test_every_outcome_is_there_from_the_start(client: Any) -> None:
    samples = scrape(client)
    for outcome in ("ok", "wrong", "blocked", "rate_limited"):
        assert (SIGN_INS, frozenset({("outcome", outcome)})) in samples
    for outcome in ("ok", "wrong", "locked", "replayed", "recovery_code"):
        assert (SECOND_STEP, frozenset({("outcome", outcome)})) in samples
    assert (LOCKS, frozenset()) in samples
    for group in ("login", "second_step", "mypage", "admin", "api", "other"):
        assert ("console_request_duration_seconds_count", frozenset({("group", group)})) in samples


def test_the_password_step_counts_each_outcome(
    app: Flask, client: Any, employee: Any, make_user: Any
) -> None:
    make_user("former", active=False)
    before = scrape(client)
    assert password(client, password="wrong password").status_code == 200
    assert password(client, login="nobody").status_code == 200
    assert password(client, login="former").status_code == 200
    assert password(client).status_code == 303
    assert moved(before, scrape(client)) == {
        (SIGN_INS, "wrong"): 2,
        (SIGN_INS, "blocked"): 1,
        (SIGN_INS, "ok"): 1,
    }


@pytest.mark.settings(LOGIN_RATE_LIMIT="2 per minute")
def test_a_rate_limited_password_counts_every_time(client: Any, employee: Any) -> None:
    before = scrape(client)
    statuses = [password(client, password="wrong password").status_code for _ in range(5)]
    assert statuses == [200, 200, 429, 429, 429]
    # The event log keeps one row for the three refusals; the metrics count all three.
    assert moved(before, scrape(client)) == {(SIGN_INS, "wrong"): 2, (SIGN_INS, "rate_limited"): 3}


def test_the_second_step_counts_ok_wrong_and_replayed(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee)
    first, second = app.test_client(), app.test_client()
    before = scrape(first)
    assert password(first).headers["Location"] == "/login/otp"
    assert code(first, "000000").status_code == 200  # wrong
    spent = totp_code()
    assert code(first, spent).headers["Location"] == "/my/"
    assert password(second).headers["Location"] == "/login/otp"
    refused = code(second, spent)  # the same code again, in another browser
    assert refused.status_code == 200
    assert "One-time password is incorrect." in refused.get_data(as_text=True)
    assert moved(before, scrape(first)) == {
        (SIGN_INS, "ok"): 2,
        (SECOND_STEP, "wrong"): 1,
        (SECOND_STEP, "ok"): 1,
        (SECOND_STEP, "replayed"): 1,
    }


def test_an_hotp_code_used_before_counts_as_replayed(
    app: Flask, client: Any, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on()
    connect_device(employee, kind="hotp")  # spends counters 0 and 1
    before = scrape(client)
    password(client)
    assert code(client, hotp_code(1)).status_code == 200
    assert code(client, hotp_code(2)).headers["Location"] == "/my/"
    assert moved(before, scrape(client)) == {
        (SIGN_INS, "ok"): 1,
        (SECOND_STEP, "replayed"): 1,
        (SECOND_STEP, "ok"): 1,
    }


def test_a_recovery_code_and_a_lock_are_counted(
    app: Flask, employee: Any, two_step_on: Any, connect_device: Any
) -> None:
    two_step_on(max_attempts=3)
    recovery_codes = connect_device(employee)
    browser = app.test_client()
    before = scrape(browser)
    password(browser)
    assert code(browser, recovery_codes[0]).headers["Location"] == "/my/"
    guesser = app.test_client()
    password(guesser)
    statuses = [code(guesser, "000000").status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert moved(before, scrape(browser)) == {
        (SIGN_INS, "ok"): 2,
        (SECOND_STEP, "recovery_code"): 1,
        (SECOND_STEP, "wrong"): 2,
        (SECOND_STEP, "locked"): 2,  # the guess that locked, and one refused while locked
        (LOCKS, ""): 1,
    }


def test_a_rolled_back_transaction_counts_nothing(app: Flask, client: Any, employee: Any) -> None:
    from extensions import db
    from security import signin

    before = scrape(client)
    signin.check_password("employee", "wrong password", now=utcnow(), ip="192.0.2.1")
    db.session.rollback()
    signin.check_password("employee", DEFAULT_PASSWORD, now=utcnow(), ip="192.0.2.1")
    db.session.commit()
    assert moved(before, scrape(client)) == {(SIGN_INS, "ok"): 1}


def test_requests_are_timed_by_endpoint_group(
    admin_client: Any, employee: Any, two_step_on: Any
) -> None:
    before = scrape(admin_client)
    admin_client.get("/admin/users")
    admin_client.get("/my/")
    admin_client.get("/no-such-page")
    after = scrape(admin_client)
    count = "console_request_duration_seconds_count"
    for group in ("admin", "mypage", "other"):
        assert value(after, count, group=group) - value(before, count, group=group) >= 1, group
    assert value(after, count, group="other") - value(before, count, group="other") >= 2


def test_users_by_state_and_pending_notices_come_from_the_database(
    app: Flask, client: Any, make_user: Any, two_step_on: Any, connect_device: Any
) -> None:
    from extensions import db
    from security import notices

    make_user("plain")
    connected = make_user("connected", email="connected@example.com")
    two_step_on()
    connect_device(connected)
    notices.configure(mail_enabled=True)
    try:
        notices.notify(connected, notices.RECOVERY_CODES_GENERATED, now=utcnow())
        db.session.commit()
    finally:
        notices.configure(mail_enabled=False)
    samples = scrape(client)
    assert value(samples, "console_users", state="active") == 1
    assert value(samples, "console_users", state="not_configured") == 1
    assert value(samples, "console_notices_pending") == 1


def test_the_database_numbers_are_kept_for_a_minute(
    app: Flask, client: Any, make_user: Any
) -> None:
    make_user("first")
    assert value(scrape(client), "console_users", state="not_configured") == 1
    make_user("second")
    assert value(scrape(client), "console_users", state="not_configured") == 1
    app.extensions.pop("console_metrics_cache")  # as if the minute were over
    assert value(scrape(client), "console_users", state="not_configured") == 2


def test_no_label_holds_a_login_or_an_address(
    app: Flask, make_user: Any, two_step_on: Any, connect_device: Any
) -> None:
    user = make_user("alice.personal", email="alice@example.com")
    two_step_on()
    connect_device(user)
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    password(stranger, login="alice.personal", password="wrong password")
    password(stranger, login="bob.unknown")
    password(stranger, login="alice.personal")
    code(stranger, "000000")
    local = app.test_client()
    text = local.get("/metrics").get_data(as_text=True)
    for personal in ("alice", "bob", "198.51.100.23", "example.com"):
        assert personal not in text
    allowed = {
        "ok", "wrong", "blocked", "rate_limited", "locked", "replayed", "recovery_code",
        "temporary_code", "malformed", "login", "second_step", "mypage", "admin", "api",
        "other", "queue_full", "unreachable", "error", "not_configured", "active",
        "disabled", "pending", "overdue",
    }  # fmt: skip
    unexpected = {label for label in label_values(parse_metrics(text)) if label not in allowed}
    assert {label for label in unexpected if not _is_number(label)} == set()


def _is_number(text: str) -> bool:
    """A histogram bucket's `le` ("0.005", "+Inf")."""
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- who may read them ----------------------------------------------------------------


def test_without_a_token_only_this_computer_reads_them(app: Flask) -> None:
    local = app.test_client()
    assert local.get("/metrics").status_code == 200
    remote = app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    refused = remote.get("/metrics")
    assert refused.status_code == 403
    assert "console_sign_ins_total" not in refused.get_data(as_text=True)
    # Through a proxy the console was not told about, every client looks local: refused.
    proxied = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


@pytest.mark.settings(PROXY_FIX_X_FOR=1)
def test_behind_a_known_proxy_the_client_address_decides(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


@pytest.mark.settings(METRICS_TOKEN="s3cret-metrics-token")
def test_with_a_token_only_the_bearer_reads_them(app: Flask) -> None:
    client = app.test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer wrong-token", "Basic s3cret-metrics-token", "s3cret-metrics-token"):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 401
    remote = app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    allowed = remote.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert allowed.status_code == 200
    assert "console_sign_ins_total" in allowed.get_data(as_text=True)


def test_the_metrics_need_no_sign_in_and_set_no_cookie(client: Any) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
