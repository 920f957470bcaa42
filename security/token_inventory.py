"""The hardware token inventory: import from the vendor's file, list, assign, take back.

A file is read whole (integrations.pskc) and checked against the inventory, then every
token goes in, in the caller's one transaction, or none does and every problem is named.
A token is assigned to a user by the codes it shows (one TOTP code, or two consecutive
HOTP codes), through the same connection code as any device, so its codes are spent and
replay rules hold; it then is that user's device. Taken back, it returns to the shelf, or
is marked lost or retired, its seed destroyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from extensions import db
from integrations import pskc
from integrations.pskc import Problem, TokenFileRefused, TokenRecord, read_token_file
from models import TOKEN_STATES, HardwareToken, OtpSettings, User
from security import device_connection, events, keys, two_step
from security.device_connection import Connected
from security.list_queries import Page
from security.messages import message
from security.statements import rowcount
from security.two_step import TwoStepError

UNASSIGNED: Final = "unassigned"
ASSIGNED: Final = "assigned"
LOST: Final = "lost"
RETIRED: Final = "retired"
STATES: Final = TOKEN_STATES
# Where a token taken back from its user may go.
RETURN_STATES: Final = (UNASSIGNED, LOST, RETIRED)
PAGE_SIZE: Final = 100
MAX_FILE_BYTES: Final = pskc.MAX_FILE_BYTES
# The words of each problem a file can have (integrations.pskc's codes, and the inventory's).
PROBLEM_KEYS: Final = {
    "empty": "tokens.problem.empty",
    "too_large": "tokens.problem.too_large",
    "password_and_key": "tokens.problem.password_and_key",
    "xml_unsafe": "tokens.problem.xml_unsafe",
    "xml_invalid": "tokens.problem.xml_invalid",
    "pskc_invalid": "tokens.problem.pskc_invalid",
    "no_tokens": "tokens.problem.no_tokens",
    "password_needed": "tokens.problem.password_needed",
    "key_needed": "tokens.problem.key_needed",
    "key_format": "tokens.problem.key_format",
    "password_unusable": "tokens.problem.password_unusable",
    "password_wrong": "tokens.problem.password_wrong",
    "key_wrong": "tokens.problem.key_wrong",
    "decryption_failed": "tokens.problem.decryption_failed",
    "type_unsupported": "tokens.problem.type_unsupported",
    "encoding": "tokens.problem.encoding",
    "csv_invalid": "tokens.problem.csv_invalid",
    "csv_columns": "tokens.problem.csv_columns",
    "digits_invalid": "tokens.problem.digits_invalid",
    "period_invalid": "tokens.problem.period_invalid",
    "counter_invalid": "tokens.problem.counter_invalid",
    "secret_format": "tokens.problem.secret_format",
    "serial_missing": "tokens.problem.serial_missing",
    "serial_invalid": "tokens.problem.serial_invalid",
    "secret_missing": "tokens.problem.secret_missing",
    "secret_length": "tokens.problem.secret_length",
    "serial_twice": "tokens.problem.serial_twice",
    "serial_known": "tokens.problem.serial_known",
}


class ImportRefused(Exception):
    """The file was not imported; `problems` holds every reason, in words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- import ----------------------------------------------------------------------------------


def _problem_text(problem: Problem) -> str:
    text = message(PROBLEM_KEYS.get(problem.code, "tokens.problem.xml_invalid"), **problem.values)
    if problem.line is not None:
        return message("tokens.problem_at_line", line=problem.line, problem=text)
    if problem.entry is not None:
        return message("tokens.problem_at_key", entry=problem.entry, problem=text)
    return text


def check_file(data: bytes, *, password: str = "", key_hex: str = "") -> list[TokenRecord]:
    """Read and check a whole file: its tokens, or ImportRefused naming every problem."""
    try:
        records = read_token_file(data, password=password, key_hex=key_hex)
    except TokenFileRefused as refused:
        raise ImportRefused([_problem_text(problem) for problem in refused.problems]) from None
    problems: list[Problem] = []
    seen: set[str] = set()
    for record in records:
        if record.serial in seen:
            problems.append(_where(record, "serial_twice", serial=record.serial))
        seen.add(record.serial)
    known = _known_serials(seen)
    problems += [
        _where(record, "serial_known", serial=record.serial)
        for record in records
        if record.serial in known
    ]
    if problems:
        problems.sort(key=lambda problem: problem.line or 0)
        raise ImportRefused([_problem_text(problem) for problem in problems])
    return records


def _where(record: TokenRecord, code: str, **values: object) -> Problem:
    return Problem(code, line=record.line, entry=record.entry, values=values)


def _known_serials(serials: set[str]) -> set[str]:
    known: set[str] = set()
    ordered = sorted(serials)
    # In slices: a statement's parameters are limited (SQLite: 32,766).
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        known.update(
            db.session.scalars(select(HardwareToken.serial).where(HardwareToken.serial.in_(chunk)))
        )
    return known


def import_file(
    data: bytes,
    *,
    password: str = "",
    key_hex: str = "",
    now: datetime,
    actor: User | None,
    ip: str = "",
) -> int:
    """Import every token of the file, or none (ImportRefused); return how many. The caller
    commits; on a refusal only its event is in the session."""
    try:
        records = check_file(data, password=password, key_hex=key_hex)
    except ImportRefused as refused:
        events.record(
            events.TOKENS_IMPORT_REFUSED,
            now=now,
            ip=ip,
            actor=actor,
            outcome=events.FAILURE,
            details={"problems": len(refused.problems)},
        )
        raise
    box = keys.secret_box()
    by = actor.login if actor is not None else ""
    try:
        # A savepoint: another import that took one of these serials meanwhile makes the
        # unique index refuse this one whole, and the session stays usable.
        with db.session.begin_nested():
            db.session.add_all(
                HardwareToken(
                    serial=record.serial,
                    kind=record.kind,
                    digits=record.digits,
                    period=record.period,
                    counter=record.counter,
                    algorithm=record.algorithm,
                    secret_encrypted=box.encrypt(record.secret),
                    state=UNASSIGNED,
                    imported_at=now,
                    imported_by=by,
                )
                for record in records
            )
    except IntegrityError:
        raise ImportRefused([message("tokens.problem.serial_race")]) from None
    events.record(
        events.TOKENS_IMPORTED, now=now, ip=ip, actor=actor, details={"count": len(records)}
    )
    return len(records)


# --- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRow:
    token: HardwareToken
    user_login: str | None
    user_id: int | None


def state_counts() -> dict[str, int]:
    """How many tokens are in each state (every state named, zero or not)."""
    counts = dict.fromkeys(STATES, 0)
    rows = db.session.execute(
        select(HardwareToken.state, func.count()).group_by(HardwareToken.state)
    )
    for state, count in rows:
        counts[state] = int(count)
    return counts


def list_tokens(*, state: str | None = None, serial: str = "", page: int = 1) -> Page[TokenRow]:
    """One page of the tokens in a state and/or whose serial contains the text."""
    where = []
    if state in STATES:
        where.append(HardwareToken.state == state)
    text = serial.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(HardwareToken.serial.ilike(f"%{escaped}%", escape="\\"))
    total = int(
        db.session.scalar(select(func.count()).select_from(HardwareToken).where(*where)) or 0
    )
    page = max(page, 1)
    rows = db.session.execute(
        select(HardwareToken, User.login, User.id)
        .outerjoin(User, User.id == HardwareToken.user_id)
        .where(*where)
        .order_by(HardwareToken.serial)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    items = [TokenRow(token, login, user_id) for token, login, user_id in rows]
    return Page(
        items=items,
        total=total,
        page=page,
        per_page=PAGE_SIZE,
        has_next=page * PAGE_SIZE < total,
    )


def token_by_id(token_id: int) -> HardwareToken | None:
    return db.session.get(HardwareToken, token_id)


def unassigned_serials(limit: int = 500) -> Sequence[str]:
    """Serials on the shelf, for the assign form's suggestions."""
    return db.session.scalars(
        select(HardwareToken.serial)
        .where(HardwareToken.state == UNASSIGNED)
        .order_by(HardwareToken.serial)
        .limit(limit)
    ).all()


# --- assign ----------------------------------------------------------------------------------


def assign(
    user: User,
    serial: str,
    code: str,
    code2: str = "",
    *,
    now: datetime,
    settings: OtpSettings,
    actor: User,
    ip: str,
    keep_session_id: str | None = None,
) -> Connected:
    """Make the token of `serial` the user's device, proven by its codes.

    The token is claimed first by one conditional UPDATE (of two administrators assigning
    it at once, one wins); codes that do not verify give it back to the shelf in the same
    transaction, so the failure's event can be committed and nothing else changes.
    """
    text = serial.strip()
    token = db.session.scalar(select(HardwareToken).where(HardwareToken.serial == text))
    if token is None:
        raise TwoStepError("tokens.unknown_serial", "serial")
    if token.state != UNASSIGNED or token.secret_encrypted is None:
        raise TwoStepError("tokens.not_on_shelf", "serial", status=409)
    claimed = db.session.execute(
        update(HardwareToken)
        .where(HardwareToken.id == token.id, HardwareToken.state == UNASSIGNED)
        # Claimed for nobody yet: connecting removes the user's earlier device, and with
        # it puts the user's earlier token back on the shelf, not this one.
        .values(state=ASSIGNED, user_id=None, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) != 1:
        raise TwoStepError("tokens.not_on_shelf", "serial", status=409)
    connection = device_connection.new_connection(
        user,
        token.kind,
        source="hardware",
        secret=keys.secret_box().decrypt(token.secret_encrypted),
        digits=token.digits,
        period=token.period,
        algorithm=token.algorithm,
        start_counter=token.counter,
    )
    try:
        connected = device_connection.confirm_connection(
            connection,
            user,
            code,
            code2,
            now=now,
            settings=settings,
            actor=actor,
            ip=ip,
            keep_session_id=keep_session_id,
        )
    except TwoStepError:
        _set_state(token.id, UNASSIGNED, user_id=None, now=None)
        raise
    _set_state(token.id, ASSIGNED, user_id=user.id, now=now, device_id=connected.device.id)
    db.session.refresh(token)
    events.record(
        events.TOKEN_ASSIGNED,
        now=now,
        ip=ip,
        actor=actor,
        subject=user,
        details={"serial": token.serial, "type": token.kind},
    )
    return connected


def _set_state(
    token_id: int,
    state: str,
    *,
    user_id: int | None,
    now: datetime | None,
    device_id: int | None = None,
    destroy: bool = False,
) -> None:
    values: dict[str, object] = {"state": state, "user_id": user_id, "device_id": device_id}
    if now is not None:
        values["changed_at"] = now
    if destroy:
        values["secret_encrypted"] = None
    db.session.execute(
        update(HardwareToken)
        .where(HardwareToken.id == token_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --- unassign, lost, retired -----------------------------------------------------------------


def holder_of(token: HardwareToken) -> User | None:
    """The user whose device the token is, if it still is one."""
    if token.state != ASSIGNED or token.user_id is None:
        return None
    return db.session.get(User, token.user_id)


def take_back(
    token: HardwareToken,
    to: str,
    *,
    now: datetime,
    actor: User,
    ip: str,
    keep_session_id: str | None = None,
) -> None:
    """Take the token from its user (their device removed) and put it back on the shelf, or
    mark it lost or retired with its seed destroyed. Lost and retired are for good."""
    if to not in RETURN_STATES:
        raise TwoStepError("tokens.bad_target", "to")
    if token.state in (LOST, RETIRED):
        raise TwoStepError("tokens.out_of_use", status=409)
    if token.state == UNASSIGNED and to == UNASSIGNED:
        raise TwoStepError("tokens.already_on_shelf", status=409)
    holder = holder_of(token)
    device = two_step.device_of(holder.id) if holder is not None else None
    # Off its user first, so that the device's removal below finds no token of its own
    # to put back (this event says where it goes); a refusal rolls both back.
    _set_state(token.id, to, user_id=None, now=now, destroy=to != UNASSIGNED)
    if holder is not None and device is not None and device.id == token.device_id:
        # The same rules as removing the device on the user's tab (an own mandatory
        # two-step cannot be removed), its event and notice.
        two_step.remove_device(holder, now=now, actor=actor, ip=ip, keep_session_id=keep_session_id)
    db.session.refresh(token)
    events.record(
        events.TOKEN_UNASSIGNED,
        now=now,
        ip=ip,
        actor=actor,
        subject=holder,
        details={"serial": token.serial, "to": to},
    )


# --- keys ------------------------------------------------------------------------------------


def rotate_seeds() -> tuple[int, int]:
    """Re-encrypt every stored seed under the newest key; return (rotated, total)."""
    box = keys.secret_box()
    rotated = total = 0
    for token in db.session.scalars(
        select(HardwareToken).where(HardwareToken.secret_encrypted.is_not(None))
    ):
        total += 1
        sealed = token.secret_encrypted or ""
        if not box.is_current(sealed):
            token.secret_encrypted = box.rotate(sealed)
            rotated += 1
    return rotated, total
