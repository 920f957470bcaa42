"""The company directory: the one place that speaks LDAP (OpenLDAP, Active Directory).

It connects to the configured URLs in order (``ldaps://``, or ``ldap://`` with StartTLS;
the server's certificate and name are always checked, against the CA file when one is
given), binds with the service account, searches with the paged results control, checks a
person's password by binding as their entry, and reads group membership (nested groups on
Active Directory through LDAP_MATCHING_RULE_IN_CHAIN, elsewhere by following member
groups). Every value put into a filter is escaped per RFC 4515. It hands back plain data
and knows nothing of the console's users: security.directory decides what to do with them.
"""

from __future__ import annotations

import ssl
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

with warnings.catch_warnings():
    # ldap3 imports names that pyasn1 deprecated; harmless, and not the console's to fix.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ldap3(\.|$)")
    from ldap3 import BASE, DSA, NONE, SUBTREE, Connection, Server, Tls
    from ldap3.core import exceptions as ldap_errors
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import parse_dn

# ldap3 checks the server's name with ssl.match_hostname, deprecated yet still correct on
# Python 3.11: a warning about the library that nobody running the console can act on.
warnings.filterwarnings(
    "ignore",
    message=r"ssl\.match_hostname\(\) is deprecated",
    category=DeprecationWarning,
    module=r"ldap3\.core\.tls",
)

LOGIN_ATTRIBUTES: Final = ("uid", "sAMAccountName", "userPrincipalName")
PAGE_SIZE: Final = 500
CONNECT_TIMEOUT: Final = 5
RECEIVE_TIMEOUT: Final = 15
SAMPLE_SIZE: Final = 5
# Active Directory: userAccountControl's ACCOUNTDISABLE bit; the rootDSE capability that
# says "this is Active Directory"; the matching rule that follows nested groups.
AD_ACCOUNT_DISABLED: Final = 0x2
AD_CAPABILITY: Final = "1.2.840.113556.1.4.800"
IN_CHAIN: Final = "1.2.840.113556.1.4.1941"
GROUP_FILTER: Final = (
    "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"
)
# How deep member groups are followed outside Active Directory (a loop stops sooner).
MAX_NESTING: Final = 10


@dataclass(frozen=True)
class DirectoryConfig:
    """Where the directory is and how its people are read."""

    urls: tuple[str, ...]
    start_tls: bool
    ca_file: str
    bind_dn: str
    bind_password: str = field(repr=False)  # never shown, logged or stored in clear
    user_base: str
    user_filter: str
    login_attribute: str
    email_attribute: str
    first_name_attribute: str
    last_name_attribute: str
    group_base: str = ""


@dataclass(frozen=True)
class DirectoryEntry:
    """A person as the directory describes them."""

    dn: str
    entry_id: str  # entryUUID or objectGUID; empty when the server gives neither
    login: str
    email: str
    first_name: str
    last_name: str
    disabled: bool


class DirectoryError(Exception):
    """The directory answered with an error (its own words), or the settings are unusable."""


class DirectoryUnavailable(DirectoryError):
    """No configured server could be reached (or none over a checked TLS connection)."""


def normalize_dn(dn: str) -> str:
    """A DN in one spelling (case and spaces folded), for comparing DNs."""
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except ldap_errors.LDAPInvalidDnError:
        return dn.strip().lower()
    return ",".join(f"{name.lower()}={value.lower()}" for name, value, _separator in parts)


def user_filter_for(config: DirectoryConfig, login: str) -> str:
    """The search filter for one login: the configured filter and the escaped login."""
    value = escape_filter_chars(login)
    return f"(&{_wrapped(config.user_filter)}({config.login_attribute}={value}))"


def _wrapped(user_filter: str) -> str:
    text = user_filter.strip() or "(objectClass=*)"
    return text if text.startswith("(") else f"({text})"


def _server(url: str, config: DirectoryConfig, get_info: str) -> tuple[Server, bool]:
    parts = urlsplit(url)
    secure = parts.scheme == "ldaps"
    if parts.scheme not in {"ldap", "ldaps"} or not parts.hostname:
        raise DirectoryError(f"not an ldap:// or ldaps:// URL: {url}")
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=config.ca_file or None)
    server = Server(
        parts.hostname,
        port=parts.port or (636 if secure else 389),
        use_ssl=secure,
        tls=tls,
        get_info=get_info,
        connect_timeout=CONNECT_TIMEOUT,
    )
    return server, secure


def _describe(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[:500]


def _open(config: DirectoryConfig, user: str, password: str, *, get_info: str = NONE) -> Connection:
    """Connect to the first URL that answers over TLS and bind; raise when none does.

    A refused bind raises ldap3's LDAPInvalidCredentialsResult for the caller to judge.
    """
    if not config.urls:
        raise DirectoryError("no directory server is configured")
    failures: list[str] = []
    for url in config.urls:
        server, secure = _server(url, config, get_info)
        if not secure and not config.start_tls:
            # A password never crosses the network in clear.
            raise DirectoryError(f"{url}: refusing a connection without TLS (use StartTLS)")
        connection = Connection(
            server,
            user=user or None,
            password=password or None,
            raise_exceptions=True,
            receive_timeout=RECEIVE_TIMEOUT,
            read_only=True,
            auto_referrals=False,
        )
        try:
            connection.open()
            if not secure:
                connection.start_tls()
        except (ldap_errors.LDAPException, OSError) as error:
            failures.append(f"{url}: {_describe(error)}")
            _close(connection)
            continue
        try:
            connection.bind()
        except ldap_errors.LDAPInvalidCredentialsResult:
            _close(connection)
            raise
        except ldap_errors.LDAPCommunicationError as error:
            failures.append(f"{url}: {_describe(error)}")
            _close(connection)
            continue
        except ldap_errors.LDAPException as error:
            _close(connection)
            raise DirectoryError(f"{url}: {_describe(error)}") from None
        return connection
    raise DirectoryUnavailable("; ".join(failures))


def _close(connection: Connection) -> None:
    try:
        connection.unbind()
    except (ldap_errors.LDAPException, OSError):
        pass
    # A connection that never opened keeps its half-made socket: close it too.
    leftover = getattr(connection, "socket", None)
    if leftover is not None:
        try:
            leftover.close()
        except OSError:
            pass


def _service(config: DirectoryConfig, *, get_info: str = NONE) -> Connection:
    try:
        return _open(config, config.bind_dn, config.bind_password, get_info=get_info)
    except ldap_errors.LDAPInvalidCredentialsResult as error:
        raise DirectoryError(f"the service account was refused: {_describe(error)}") from None


def _first(attributes: dict[str, Any], name: str) -> Any:
    for key, value in attributes.items():
        if key.lower() == name.lower():
            if isinstance(value, list | tuple):
                return value[0] if value else None
            return value
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _entry_id(attributes: dict[str, Any], raw: dict[str, Any]) -> str:
    guid = _first(raw, "objectGUID")
    if isinstance(guid, bytes) and len(guid) == 16:
        return str(uuid.UUID(bytes_le=guid))
    return _text(_first(attributes, "entryUUID")).lower()


def _disabled(attributes: dict[str, Any]) -> bool:
    control = _first(attributes, "userAccountControl")
    try:
        return bool(int(_text(control) or 0) & AD_ACCOUNT_DISABLED)
    except ValueError:
        return False


def _attributes(config: DirectoryConfig) -> list[str]:
    return [
        config.login_attribute,
        config.email_attribute,
        config.first_name_attribute,
        config.last_name_attribute,
        "entryUUID",
        "objectGUID",
        "userAccountControl",
    ]


def _entry(config: DirectoryConfig, response: dict[str, Any]) -> DirectoryEntry:
    attributes = response.get("attributes") or {}
    raw = response.get("raw_attributes") or {}
    return DirectoryEntry(
        dn=str(response["dn"]),
        entry_id=_entry_id(attributes, raw),
        login=_text(_first(attributes, config.login_attribute)).strip(),
        email=_text(_first(attributes, config.email_attribute)).strip(),
        first_name=_text(_first(attributes, config.first_name_attribute)).strip(),
        last_name=_text(_first(attributes, config.last_name_attribute)).strip(),
        disabled=_disabled(attributes),
    )


def _paged(
    connection: Connection, base: str, search_filter: str, attributes: Sequence[str]
) -> Iterator[dict[str, Any]]:
    """Every entry of a search, page by page; the directory's errors as DirectoryError."""
    try:
        for response in connection.extend.standard.paged_search(
            base,
            search_filter,
            search_scope=SUBTREE,
            attributes=list(attributes),
            paged_size=PAGE_SIZE,
            generator=True,
        ):
            if response.get("type") == "searchResEntry":
                yield response
    except ldap_errors.LDAPCommunicationError as error:
        raise DirectoryUnavailable(_describe(error)) from None
    except ldap_errors.LDAPException as error:
        raise DirectoryError(_describe(error)) from None


def find_user(config: DirectoryConfig, login: str) -> DirectoryEntry | None:
    """The one entry whose login attribute is `login` (None: none, or more than one)."""
    connection = _service(config)
    try:
        found = list(
            _paged(
                connection, config.user_base, user_filter_for(config, login), _attributes(config)
            )
        )
    finally:
        _close(connection)
    return _entry(config, found[0]) if len(found) == 1 else None


def password_matches(config: DirectoryConfig, dn: str, password: str) -> bool:
    """Check a person's password by binding as their entry.

    An empty password is refused before any bind: the directory would take it as an
    anonymous bind and answer "success".
    """
    if not password or not dn:
        return False
    try:
        connection = _open(config, dn, password)
    except ldap_errors.LDAPInvalidCredentialsResult:
        return False
    _close(connection)
    return True


def authenticate(config: DirectoryConfig, login: str, password: str) -> DirectoryEntry | None:
    """The person's entry when the login exists and the password is theirs, else None."""
    if not password or not login:
        return None
    entry = find_user(config, login)
    if entry is None or not password_matches(config, entry.dn, password):
        return None
    return entry


def iter_users(config: DirectoryConfig) -> Iterator[DirectoryEntry]:
    """Every person the user filter matches, read page by page."""
    connection = _service(config)
    try:
        for response in _paged(
            connection, config.user_base, _wrapped(config.user_filter), _attributes(config)
        ):
            yield _entry(config, response)
    finally:
        _close(connection)


@dataclass(frozen=True)
class Probe:
    """What "Test the connection" found."""

    count: int
    sample: tuple[DirectoryEntry, ...]
    active_directory: bool


def probe(config: DirectoryConfig) -> Probe:
    """Connect, bind, and count the people the filter matches, with a few of them."""
    connection = _service(config, get_info=DSA)
    count, sample = 0, list[DirectoryEntry]()
    try:
        for response in _paged(
            connection, config.user_base, _wrapped(config.user_filter), _attributes(config)
        ):
            count += 1
            if len(sample) < SAMPLE_SIZE:
                sample.append(_entry(config, response))
        return Probe(count, tuple(sample), _is_active_directory(connection))
    finally:
        _close(connection)


def _is_active_directory(connection: Connection) -> bool:
    info = connection.server.info
    capabilities = (info.other.get("supportedCapabilities") if info else None) or []
    return AD_CAPABILITY in capabilities


def group_members(config: DirectoryConfig, group_dns: Iterable[str]) -> dict[str, set[str]]:
    """For each group DN, the normalised DNs of the people in it, nested groups included."""
    wanted = list(dict.fromkeys(group_dns))
    if not wanted:
        return {}
    connection = _service(config, get_info=DSA)
    try:
        if _is_active_directory(connection):
            return {
                dn: {
                    normalize_dn(str(response["dn"]))
                    for response in _paged(
                        connection,
                        config.user_base,
                        f"(&{_wrapped(config.user_filter)}"
                        f"(memberOf:{IN_CHAIN}:={escape_filter_chars(dn)}))",
                        ["1.1"],
                    )
                }
                for dn in wanted
            }
        groups = _read_groups(connection, config, wanted)
        return {dn: _expand(groups, dn) for dn in wanted}
    finally:
        _close(connection)


def _members_of(response: dict[str, Any]) -> list[str]:
    attributes = response.get("attributes") or {}
    members: list[str] = []
    for name in ("member", "uniqueMember"):
        values = attributes.get(name) or []
        members += [_text(value) for value in (values if isinstance(values, list) else [values])]
    return members


def _read_groups(
    connection: Connection, config: DirectoryConfig, wanted: Iterable[str]
) -> dict[str, list[str]]:
    """Every group under the group base (and each wanted one), by normalised DN."""
    groups: dict[str, list[str]] = {}
    attributes = ["member", "uniqueMember"]
    if config.group_base:
        for response in _paged(connection, config.group_base, GROUP_FILTER, attributes):
            groups[normalize_dn(str(response["dn"]))] = _members_of(response)
    for dn in wanted:
        if normalize_dn(dn) in groups:
            continue
        try:
            connection.search(dn, GROUP_FILTER, search_scope=BASE, attributes=attributes)
        except ldap_errors.LDAPNoSuchObjectResult:
            continue
        except ldap_errors.LDAPCommunicationError as error:
            raise DirectoryUnavailable(_describe(error)) from None
        except ldap_errors.LDAPException as error:
            raise DirectoryError(_describe(error)) from None
        for response in connection.response or []:
            groups[normalize_dn(dn)] = _members_of(response)
    return groups


def _expand(groups: dict[str, list[str]], group_dn: str) -> set[str]:
    """The people of a group, following member groups (a loop is followed once)."""
    people: set[str] = set()
    seen: set[str] = set()
    level = [normalize_dn(group_dn)]
    for _depth in range(MAX_NESTING):
        following: list[str] = []
        for key in level:
            if key in seen or key not in groups:
                continue
            seen.add(key)
            for member in groups[key]:
                member_key = normalize_dn(member)
                if member_key in groups:
                    following.append(member_key)
                else:
                    people.add(member_key)
        if not following:
            break
        level = following
    return people
