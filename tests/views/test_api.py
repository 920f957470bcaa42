"""The API for other services: one set of rules with the console's own sign-in.

A client key checks a person's password and code; a code spent by the API is spent for
the console and the other way round; failed codes lock both; the console's rate limits
count API refusals; keys, scopes and networks are checked; errors are problem documents.
"""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.support import DEFAULT_PASSWORD, events_of, sign_in, totp_code

EMPLOYEES = "2"


@pytest.fixture
def make_client(app: Flask, admin: Any) -> Any:
    """Make an API client through the domain; return its key."""
    from extensions import db
    from models import utcnow
    from security import api_clients

    def make(
        name: str = "VPN gateway",
        scopes: tuple[str, ...] = ("validate", "users:read"),
        networks: str = "",
    ) -> str:
        made = api_clients.create_client(
            name, list(scopes), networks, now=utcnow(), actor=admin, ip="test"
        )
        db.session.commit()
        return made.key

    return make


@pytest.fixture
def key(make_client: Any) -> str:
    return str(make_client())


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def validate(client: Any, key: str, **body: Any) -> Any:
    return client.post("/api/v1/validate", json=body, headers=bearer(key))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["type"] == "about:blank"
    return body


@pytest.fixture
def protected(employee: Any, two_step_on: Any, connect_device: Any) -> list[str]:
    """Two-step on, the employee's phone connected; return their recovery codes."""
    two_step_on()
    codes: list[str] = connect_device(employee)
    return codes


def test_a_code_is_accepted_once_by_the_api(client: Any, key: str, protected: Any) -> None:
    code = totp_code()
    first = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=code)
    assert first.status_code == 200
    assert first.get_json() == {"result": "accept", "reason": "otp"}
    again = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=code)
    assert again.get_json() == {"result": "reject", "reason": "code_incorrect"}
    # The answers are on record, naming the client.
    accepted, refused = events_of("api_validation")
    assert "client=VPN gateway" in accepted.details and "result=accept" in accepted.details
    assert refused.outcome == "failure" and "result=reject" in refused.details


def test_wrong_password_missing_code_and_no_two_step(
    client: Any, key: str, make_user: Any, protected: Any
) -> None:
    wrong = validate(client, key, login="employee", password="nope", code=totp_code())
    assert wrong.get_json() == {"result": "reject", "reason": "invalid_credentials"}
    unknown = validate(client, key, login="nobody", password=DEFAULT_PASSWORD, code="123456")
    assert unknown.get_json() == wrong.get_json()
    missing = validate(client, key, login="employee", password=DEFAULT_PASSWORD)
    assert missing.get_json() == {"result": "reject", "reason": "code_required"}
    make_user("plain")  # no device, two-step not mandatory: the password is enough
    plain = validate(client, key, login="plain", password=DEFAULT_PASSWORD)
    assert plain.get_json() == {"result": "accept", "reason": "no_second_step"}


def test_a_code_spent_at_the_console_is_refused_by_the_api(
    app: Flask, client: Any, key: str, protected: Any
) -> None:
    code = totp_code()
    browser = app.test_client()
    assert sign_in(browser, "employee").status_code == 303
    assert browser.post("/login/otp", data={"code": code}).status_code == 303
    answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=code)
    assert answer.get_json()["result"] == "reject"


def test_a_code_spent_by_the_api_is_refused_at_the_console(
    app: Flask, client: Any, key: str, protected: Any
) -> None:
    code = totp_code()
    answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=code)
    assert answer.get_json()["result"] == "accept"
    browser = app.test_client()
    assert sign_in(browser, "employee").status_code == 303
    refused = browser.post("/login/otp", data={"code": code})
    assert refused.status_code == 200  # the code page again, with its error


def test_a_recovery_code_is_accepted_once_where_allowed(
    client: Any, key: str, protected: list[str], two_step_on: Any
) -> None:
    code = protected[0]
    answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=code)
    assert answer.get_json() == {"result": "accept", "reason": "recovery_code"}
    again = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=code)
    assert again.get_json()["result"] == "reject"
    two_step_on(allow_recovery_codes=False)
    other = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=protected[1])
    assert other.get_json()["result"] == "reject"


def test_failed_codes_lock_the_api_and_the_console(
    app: Flask, client: Any, key: str, protected: Any, two_step_on: Any
) -> None:
    two_step_on(max_attempts=3)
    answers = [
        validate(
            client, key, login="employee", password=DEFAULT_PASSWORD, code="000000"
        ).get_json()["result"]
        for _ in range(3)
    ]
    assert answers == ["reject", "reject", "locked"]
    # Even the right code is refused now, by the API and at the console.
    right = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=totp_code())
    assert right.get_json() == {"result": "locked", "reason": "locked"}
    browser = app.test_client()
    assert sign_in(browser, "employee").status_code == 303
    assert browser.post("/login/otp", data={"code": totp_code()}).status_code == 429
    assert events_of("otp_locked")


def test_a_person_who_must_connect_gets_connect_required(
    client: Any, key: str, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=0, mandatory_groups=EMPLOYEES)
    answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code="123456")
    assert answer.get_json() == {"result": "reject", "reason": "connect_required"}


def test_a_person_in_the_grace_period_passes_with_the_password(
    client: Any, key: str, employee: Any, two_step_on: Any
) -> None:
    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD)
    assert answer.get_json() == {"result": "accept", "reason": "no_second_step"}
    assert events_of("otp_grace_started")


@pytest.mark.settings(LOGIN_RATE_LIMIT="3 per minute")
def test_refusals_count_against_the_consoles_limit_per_login(
    app: Flask, client: Any, key: str, employee: Any
) -> None:
    for _ in range(3):
        answer = validate(client, key, login="employee", password="wrong")
        assert answer.get_json()["result"] == "reject"
    limited = validate(client, key, login="employee", password=DEFAULT_PASSWORD)
    body = assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert body["detail"]
    # The same counter holds the console's sign-in form back, from another address.
    browser = app.test_client()
    other = browser.post(
        "/login",
        data={"login": "employee", "password": DEFAULT_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert other.status_code == 429


@pytest.mark.settings(LOGIN_RATE_LIMIT="3 per minute")
def test_good_answers_do_not_hold_a_service_back(client: Any, key: str, employee: Any) -> None:
    for _ in range(6):
        answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD)
        assert answer.get_json()["result"] == "accept"


def test_a_missing_or_wrong_key_is_401(client: Any, key: str, employee: Any) -> None:
    body = {"login": "employee", "password": DEFAULT_PASSWORD}
    missing = client.post("/api/v1/validate", json=body)
    assert_problem(missing, 401)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.post("/api/v1/validate", json=body, headers=bearer(key + "x")), 401)
    assert_problem(client.post("/api/v1/validate", json=body, headers={"Authorization": key}), 401)
    assert_problem(client.get("/api/v1/users/employee/two-step", headers=bearer("otpc_")), 401)
    assert events_of("api_refused")
    assert not events_of("api_validation")  # nothing was checked


def test_a_revoked_client_is_401(client: Any, admin: Any, key: str, employee: Any) -> None:
    from extensions import db
    from models import ApiClient, utcnow
    from security import api_clients

    [made] = db.session.query(ApiClient).all()
    assert api_clients.revoke_client(made.id, now=utcnow(), actor=admin, ip="test")
    db.session.commit()
    assert_problem(validate(client, key, login="employee", password=DEFAULT_PASSWORD), 401)


def test_scopes_are_enforced(client: Any, make_client: Any, employee: Any) -> None:
    reader = make_client("Wiki", scopes=("users:read",))
    assert_problem(validate(client, reader, login="employee", password=DEFAULT_PASSWORD), 403)
    assert client.get("/api/v1/users/employee/two-step", headers=bearer(reader)).status_code == 200
    checker = make_client("Mail", scopes=("validate",))
    assert_problem(client.get("/api/v1/users/employee/two-step", headers=bearer(checker)), 403)


def test_networks_are_enforced(client: Any, make_client: Any, employee: Any) -> None:
    gateway = make_client("Gateway", networks="10.1.0.0/16\n192.0.2.7")
    body = {"login": "employee", "password": DEFAULT_PASSWORD}
    inside = client.post(
        "/api/v1/validate",
        json=body,
        headers=bearer(gateway),
        environ_base={"REMOTE_ADDR": "10.1.200.3"},
    )
    assert inside.status_code == 200
    single = client.post(
        "/api/v1/validate",
        json=body,
        headers=bearer(gateway),
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert single.status_code == 200
    outside = client.post(
        "/api/v1/validate",
        json=body,
        headers=bearer(gateway),
        environ_base={"REMOTE_ADDR": "10.2.0.1"},
    )
    assert_problem(outside, 403)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"login": "employee"},
        {"login": "employee", "password": "x", "app_password": "y"},
        {"login": 5, "password": "x"},
        {"login": "employee", "password": "x", "extra": 1},
        {"login": "employee", "app_password": "abcd", "code": "123456"},
        ["login"],
    ],
)
def test_a_malformed_body_is_422(client: Any, key: str, body: Any) -> None:
    answer = client.post("/api/v1/validate", json=body, headers=bearer(key))
    assert_problem(answer, 422)


def test_a_body_that_is_not_json_is_422(client: Any, key: str) -> None:
    broken = client.post(
        "/api/v1/validate", data="{not json", content_type="application/json", headers=bearer(key)
    )
    assert_problem(broken, 422)
    form = client.post("/api/v1/validate", data={"login": "x"}, headers=bearer(key))
    assert_problem(form, 422)


def test_control_characters_are_refused_not_a_fault(client: Any, key: str) -> None:
    answer = validate(client, key, login="emp\x00loyee", password="x\x00", code="1")
    assert answer.status_code == 200
    assert answer.get_json()["result"] == "reject"


def test_no_cookie_no_csrf_no_cors(app: Flask, key: str, employee: Any) -> None:
    from tests.support import BASE_SETTINGS

    # With CSRF protection on, as in production: the API needs no token.
    app.config["WTF_CSRF_ENABLED"] = True
    assert BASE_SETTINGS["WTF_CSRF_ENABLED"] is False
    client = app.test_client()
    answer = client.post(
        "/api/v1/validate",
        json={"login": "employee", "password": DEFAULT_PASSWORD},
        headers={**bearer(key), "Origin": "https://elsewhere.example"},
    )
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert "Access-Control-Allow-Origin" not in answer.headers
    for path in ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/users/employee/two-step"):
        assert "Set-Cookie" not in client.get(path, headers=bearer(key)).headers
    assert "Set-Cookie" not in client.post("/api/v1/validate", json={}).headers


def test_the_two_step_state_of_a_person(
    client: Any, key: str, employee: Any, make_user: Any, protected: Any
) -> None:
    answer = client.get("/api/v1/users/employee/two-step", headers=bearer(key))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["login"] == "employee"
    assert body["state"] == "active"
    assert body["method"] == "totp"
    assert body["connected_at"] is not None
    make_user("plain")
    plain = client.get("/api/v1/users/PLAIN/two-step", headers=bearer(key)).get_json()
    assert plain == {
        "login": "plain",
        "state": "not_configured",
        "method": None,
        "connected_at": None,
        "last_used_at": None,
    }
    assert_problem(client.get("/api/v1/users/nobody/two-step", headers=bearer(key)), 404)
    # Every read is on record, naming the client.
    reads = events_of("api_user_read")
    assert [(e.subject_login, e.outcome) for e in reads] == [
        ("employee", "success"),
        ("plain", "success"),
        ("nobody", "failure"),
    ]
    assert all("client=VPN gateway" in e.details for e in reads)


def test_the_openapi_document_is_valid_openapi_3_1(client: Any) -> None:
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    # The OpenAPI Initiative's own 3.1 schema (as bundled by schemathesis) accepts it...
    assert OPENAPI_31_VALIDATOR.is_valid(document)
    # ...and the check is a real one.
    assert not OPENAPI_31_VALIDATOR.is_valid({**document, "info": {"title": "no version"}})
    assert set(document["paths"]) == {"/api/v1/validate", "/api/v1/users/{login}/two-step"}
    assert document["components"]["securitySchemes"]["bearerKey"]["scheme"] == "bearer"


def test_the_docs_page_is_served_by_the_console(client: Any) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/validate" in html and "/api/v1/users/{login}/two-step" in html
    assert "<script" not in html and "https://" not in html


# --- one code, twenty services at once -------------------------------------------------

RACERS = 20


def _call(settings: dict[str, Any], key: str, code: str, barrier: Any, results: Any) -> None:
    from app import create_app

    app = create_app(dict(settings))
    client = app.test_client()
    try:
        barrier.wait(timeout=60)
    except Exception:  # noqa: BLE001 - a broken barrier still reports a result
        results.put("barrier")
        return
    answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD, code=code)
    results.put(answer.get_json()["result"] if answer.status_code == 200 else answer.status_code)


def test_twenty_simultaneous_calls_with_one_code_accept_once(
    app: Flask, key: str, protected: Any, two_step_on: Any
) -> None:
    from extensions import db

    two_step_on(max_attempts=100)
    db.session.commit()
    db.engine.dispose()
    settings = {
        name: app.config[name]
        for name in (
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "PASSWORD_ARGON2_TIME_COST",
            "PASSWORD_ARGON2_MEMORY_KIB",
            "PASSWORD_ARGON2_PARALLELISM",
        )
    }
    settings.update(
        TESTING=True,
        RATELIMIT_ENABLED=False,
        SESSION_COOKIE_SECURE=False,
        INSTANCE_PATH=app.instance_path,
    )
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    code = totp_code()
    workers = [
        context.Process(target=_call, args=(settings, key, code, barrier, results))
        for _ in range(RACERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(outcomes) == ["accept"] + ["reject"] * (RACERS - 1), outcomes


def test_grace_over_time_is_the_consoles(
    client: Any, key: str, employee: Any, two_step_on: Any
) -> None:
    from sqlalchemy import update

    from extensions import db
    from models import TwoStepAccount, utcnow

    two_step_on(mandatory=True, mandatory_days=10, mandatory_groups=EMPLOYEES)
    assert (
        validate(client, key, login="employee", password=DEFAULT_PASSWORD).get_json()["result"]
        == "accept"
    )
    db.session.execute(
        update(TwoStepAccount).values(grace_deadline=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    answer = validate(client, key, login="employee", password=DEFAULT_PASSWORD)
    assert answer.get_json() == {"result": "reject", "reason": "connect_required"}


@pytest.mark.parametrize("login", ["emp%00loyee", "%1b%5b31m", "x" * 250])
def test_an_odd_login_in_the_path_is_404_not_a_fault(client: Any, key: str, login: str) -> None:
    answer = client.get(f"/api/v1/users/{login}/two-step", headers=bearer(key))
    assert_problem(answer, 404)
