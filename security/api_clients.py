"""The API's clients: other services (a VPN gateway, a mail server) allowed to call it.

An administrator names a client, gives it scopes and the networks it may call from, and
sees its bearer key once. Only an HMAC-SHA256 digest of the key under the recovery-code
key is stored, so the key is found by its digest (no comparison of secrets in Python).
Everything takes `now`; nothing knows about requests.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select, update

from extensions import db
from models import ApiClient, User
from security import events, keys, recovery_codes
from security.messages import Refusal
from security.untrusted_text import has_control_characters, neutralize

SCOPE_VALIDATE: Final = "validate"
SCOPE_USERS_READ: Final = "users:read"
SCOPES: Final = (SCOPE_VALIDATE, SCOPE_USERS_READ)
NAME_MAX: Final = 100
MAX_NETWORKS: Final = 50
KEY_PREFIX: Final = "otpc_"
# 32 random bytes, URL-safe base64: 43 characters after the prefix.
_KEY_RE = re.compile(r"otpc_[A-Za-z0-9_-]{43}")
_DIGEST_PREFIX: Final = "api-key:"


class ApiClientError(Refusal):
    """A rule refused the client as given."""


@dataclass(frozen=True)
class NewApiClient:
    client: ApiClient
    key: str


def key_digest(key: str) -> str:
    """Return the keyed digest a client key is stored as."""
    return recovery_codes.keyed_digest(_DIGEST_PREFIX + key, keys.recovery_key())


def parse_networks(text: str) -> list[str]:
    """Read one network a line (CIDR or a single address); refuse a line that is not one."""
    networks: list[str] = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ApiClientError(
                "api_client.network_invalid", "networks", line=neutralize(entry, 60)
            ) from None
        if str(network) not in networks:
            networks.append(str(network))
    if len(networks) > MAX_NETWORKS:
        raise ApiClientError("api_client.too_many_networks", "networks", max=MAX_NETWORKS)
    return networks


def create_client(
    name: str, scopes: list[str], networks_text: str, *, now: datetime, actor: User, ip: str
) -> NewApiClient:
    """Make a client; the caller commits and shows its key once."""
    name = name.strip()
    if not name:
        raise ApiClientError("api_client.name_required", "name")
    if len(name) > NAME_MAX or has_control_characters(name):
        raise ApiClientError("api_client.name_invalid", "name")
    chosen = [scope for scope in SCOPES if scope in scopes]
    if not chosen or len(set(scopes)) != len(chosen):
        raise ApiClientError("api_client.scopes_required", "scopes")
    networks = parse_networks(networks_text)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name,
        scopes=" ".join(chosen),
        networks="\n".join(networks),
        digest=key_digest(key),
        created_at=now,
        created_by=actor.login,
    )
    db.session.add(client)
    db.session.flush()
    events.record(
        events.API_CLIENT_CREATED,
        now=now,
        ip=ip,
        actor=actor,
        details={
            "client": name,
            "scope": " ".join(chosen),
            "networks": " ".join(networks) or "any",
        },
    )
    return NewApiClient(client, key)


def clients() -> list[ApiClient]:
    """Every client, the live ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiClient).order_by(
                ApiClient.revoked_at.is_not(None), ApiClient.created_at.desc(), ApiClient.id.desc()
            )
        )
    )


def revoke_client(client_id: int, *, now: datetime, actor: User, ip: str) -> bool:
    """Revoke a client's key for good; False when there is no such live client."""
    client = db.session.get(ApiClient, client_id)
    if client is None or client.revoked_at is not None:
        return False
    client.revoked_at = now
    events.record(
        events.API_CLIENT_REVOKED, now=now, ip=ip, actor=actor, details={"client": client.name}
    )
    return True


def client_for_key(key: str) -> ApiClient | None:
    """Return the live client whose key this is, or None."""
    if not _KEY_RE.fullmatch(key):
        return None
    return db.session.scalar(
        select(ApiClient).where(ApiClient.digest == key_digest(key), ApiClient.revoked_at.is_(None))
    )


def address_allowed(client: ApiClient, address: str) -> bool:
    """Tell whether the client may call from `address` (no networks: from anywhere)."""
    networks = client.network_list
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network) for network in networks)


def mark_used(client: ApiClient, *, now: datetime) -> None:
    """Note the client's last call."""
    db.session.execute(
        update(ApiClient)
        .where(ApiClient.id == client.id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
