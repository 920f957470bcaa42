"""Acting on many users at once: an administrator's two-step action over a selection.

Each user of the selection goes through the same function of security.two_step as the
single action on that user's two-step tab, so each rule is enforced, and each change
recorded (one event per user, as the function records it), in one place. The plan is that
run, rolled back: who would change, and who would be refused with the domain's own
reason (its catalog key). Applying runs it again and keeps it; the refused are skipped.
That is safe because every refusal of security.two_step comes before its change (the
refusal of one's own mandatory two-step is recorded first, as on the tab, and kept).

Two rules are the bulk's own, as the tab has them outside the domain: a holder of "Manage
one-time passwords" who is not an administrator acts on no administrator (the tab answers
403), and an unlock is for users with a device. Reminding is new here: a notice to each
user who still has to connect a device.

Users, their devices and their lock records are read in batches, not one query each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from extensions import db
from models import OtpDevice, OtpSettings, TwoStepAccount, User
from security import list_queries, notices, two_step
from security.messages import Refusal
from security.otp_settings import load_settings
from security.two_step import TwoStepError

ACTIONS = ("disable", "enable", "unlock", "defer", "exempt", "delete_device", "remind")
# The actions whose single form on the tab asks for a recent sign-in.
NEEDS_RECENT_SIGN_IN = frozenset({"disable", "delete_device"})
# The actions that take a number of days, and one that takes a date.
TAKES_DAYS = frozenset({"disable", "defer"})
# As two_step.extend_grace allows.
MAX_DEFER_DAYS = 365
# Users read per query: well under every database's limit of bound parameters.
BATCH_SIZE = 500


class BulkError(Refusal):
    """A bulk action refused as a whole: bad input, or nobody selected."""


@dataclass(frozen=True)
class BulkAction:
    """What to do to each user: the action, and its days or date."""

    name: str
    days: int | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Selection:
    """Whom to act on: chosen ids, or every user the list's search and filters match."""

    user_ids: tuple[int, ...] = ()
    all_matching: bool = False
    query: str = ""
    otp_status: str = ""
    group_id: int | None = None


@dataclass(frozen=True)
class RefusedUser:
    """A user the action leaves alone, and why (a catalog key and its values)."""

    user_id: int
    login: str
    key: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The users that change (id, login) and those refused, in id order."""

    action: BulkAction
    changed: list[tuple[int, str]]
    refused: list[RefusedUser]


def check_action(action: BulkAction, *, now: datetime) -> None:
    """Refuse an action that is refused for everyone alike: unknown, or its days or date."""
    if action.name not in ACTIONS:
        raise BulkError("bulk.unknown_action", "action")
    if action.name in TAKES_DAYS and action.days is None:
        raise BulkError("form.required", "days")
    days = action.days or 0
    if action.name == "disable" and not 0 <= days <= two_step.MAX_DISABLE_DAYS:
        raise TwoStepError("otp.disable_days", "days", max=two_step.MAX_DISABLE_DAYS)
    if action.name == "defer" and not 1 <= days <= MAX_DEFER_DAYS:
        raise TwoStepError("otp.defer_days", "days")
    if action.name == "exempt" and action.until is None:
        raise BulkError("form.required", "until")
    if action.name == "exempt" and action.until is not None and action.until <= now:
        raise TwoStepError("otp.exempt_past", "until")


def selected_user_ids(selection: Selection, *, now: datetime) -> list[int]:
    """Return the ids of the selected users that exist, in id order; refuse an empty selection.

    "All matching" selects with the user list's own conditions, in one query: every page
    of the list, not only the one shown.
    """
    if selection.all_matching:
        conditions = list_queries.user_conditions(
            selection.query.strip().casefold(),
            selection.group_id,
            selection.otp_status or None,
            None,
            now,
        )
        ids = list(db.session.scalars(select(User.id).where(*conditions).order_by(User.id)))
    else:
        wanted = sorted(set(selection.user_ids))
        ids = []
        for batch in _batches(wanted):
            ids += db.session.scalars(select(User.id).where(User.id.in_(batch)))
        ids.sort()
    if not ids:
        raise BulkError("bulk.nothing_selected")
    return ids


def plan(
    action: BulkAction,
    user_ids: Sequence[int],
    *,
    now: datetime,
    actor: User,
    ip: str,
    keep_session_id: str | None = None,
) -> Plan:
    """Say who the action would change and who it would refuse; change nothing.

    Runs the action as `apply` would, then rolls the session's transaction back.
    """
    try:
        return _run(action, user_ids, now=now, actor=actor, ip=ip, keep_session_id=keep_session_id)
    finally:
        db.session.rollback()


def apply(
    action: BulkAction,
    user_ids: Sequence[int],
    *,
    now: datetime,
    actor: User,
    ip: str,
    keep_session_id: str | None = None,
) -> Plan:
    """Change every user the action allows, one event each; skip the refused. The caller commits."""
    return _run(action, user_ids, now=now, actor=actor, ip=ip, keep_session_id=keep_session_id)


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def _run(
    action: BulkAction,
    user_ids: Sequence[int],
    *,
    now: datetime,
    actor: User,
    ip: str,
    keep_session_id: str | None,
) -> Plan:
    settings = load_settings()
    actor_is_admin = actor.is_admin
    changed: list[tuple[int, str]] = []
    refused: list[RefusedUser] = []
    for batch in _batches(user_ids):
        # One query each for the batch's users (their groups come with them), devices and
        # lock records; held here, so the functions below find them in the session.
        users = db.session.scalars(select(User).where(User.id.in_(batch)).order_by(User.id)).all()
        devices = {
            device.user_id: device
            for device in db.session.scalars(select(OtpDevice).where(OtpDevice.user_id.in_(batch)))
        }
        accounts = {
            account.user_id: account
            for account in db.session.scalars(
                select(TwoStepAccount).where(TwoStepAccount.user_id.in_(batch))
            )
        }
        # Devices are removed for the whole batch at once, after each user's check.
        removals: list[User] = []
        # The batch's changes go to the database together at its end (one flush: the
        # events in one INSERT, the rows by executemany), not before each query.
        with db.session.no_autoflush:
            for user in users:
                user_id, login = user.id, user.login
                try:
                    if user.is_admin and not actor_is_admin:
                        raise TwoStepError("bulk.refused_administrator", status=403)
                    if action.name == "delete_device":
                        two_step.check_device_removal(
                            user,
                            device=devices.get(user_id),
                            account=accounts.get(user_id),
                            settings=settings,
                            now=now,
                            actor=actor,
                            ip=ip,
                        )
                        removals.append(user)
                    else:
                        _act(
                            action,
                            user,
                            devices.get(user_id),
                            accounts.get(user_id),
                            now=now,
                            actor=actor,
                            ip=ip,
                            settings=settings,
                            keep_session_id=keep_session_id,
                        )
                except TwoStepError as error:
                    refused.append(RefusedUser(user_id, login, error.key, dict(error.values)))
                else:
                    changed.append((user_id, login))
            two_step.remove_devices(
                removals, now=now, actor=actor, ip=ip, keep_session_id=keep_session_id
            )
        db.session.flush()
    return Plan(action=action, changed=changed, refused=refused)


def _act(
    action: BulkAction,
    user: User,
    device: OtpDevice | None,
    account: TwoStepAccount | None,
    *,
    now: datetime,
    actor: User,
    ip: str,
    settings: OtpSettings,
    keep_session_id: str | None,
) -> None:
    """Do the action to one user through the single action's domain function."""
    name = action.name
    if name == "disable":
        two_step.disable(
            user,
            days=action.days or 0,
            now=now,
            actor=actor,
            ip=ip,
            settings=settings,
            keep_session_id=keep_session_id,
            # Read with the batch: two queries fewer per user.
            device=device,
            account=account,
        )
    elif name == "enable":
        two_step.enable(user, now=now, actor=actor, ip=ip)
    elif name == "unlock":
        if device is None:
            raise TwoStepError("otp.no_device", status=409)
        two_step.unlock(user, now=now, actor=actor, ip=ip)
    elif name == "defer":
        two_step.extend_grace(user, action.days or 0, now=now, actor=actor, ip=ip)
    elif name == "exempt":
        two_step.exempt(user, action.until, now=now, actor=actor, ip=ip)
    elif name == "remind":
        remind(user, device, account, now=now, settings=settings)
    else:
        raise BulkError("bulk.unknown_action", "action")


def remind(
    user: User,
    device: OtpDevice | None,
    account: TwoStepAccount | None,
    *,
    now: datetime,
    settings: OtpSettings,
) -> None:
    """Remind a user who still has to connect a device; refuse anyone else."""
    if device is not None:
        raise TwoStepError("bulk.refused_has_device", status=409)
    if not two_step.is_mandatory_for(user, settings, account, now):
        raise TwoStepError("bulk.refused_not_mandatory", status=409)
    deadline = account.grace_deadline if account is not None else None
    values: dict[str, object] = {"deadline": notices.moment(deadline)} if deadline else {}
    notices.notify(user, notices.BULK_REMINDER, now=now, values=values)
