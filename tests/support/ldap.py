"""A real OpenLDAP directory for the tests: slapd on free loopback ports, with TLS.

`Slapd.start(...)` writes a fresh cn=config (mdb database, a size limit of 500 so that a
large search really needs paging, a certificate made by a test CA), loads it with
`slapadd -n0`, loads the people and groups with `slapadd`, and starts
`slapd -h "ldap://127.0.0.1:P/ ldaps://127.0.0.1:P2/" -F <dir>`. Microsoft's schema (msuser) is
loaded too, so that an entry can carry Active Directory's userAccountControl. The tests change the
directory through the `ldapadd`/`ldapmodify`/`ldapdelete` tools, as the directory's manager.
Everything is skipped when slapd is not installed (`.ci/run` installs slapd and ldap-utils).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.mail import make_certificates

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

BASE_DN = "dc=example,dc=com"
PEOPLE = f"ou=people,{BASE_DN}"
GROUPS = f"ou=groups,{BASE_DN}"
MANAGER_DN = f"cn=manager,{BASE_DN}"
MANAGER_PASSWORD = "manager-secret"  # noqa: S105 - the throwaway test directory's
SERVICE_DN = f"cn=console,{BASE_DN}"
SERVICE_PASSWORD = "service-secret"  # noqa: S105
# The size limit a non-manager search meets: more entries need the paged results control.
SIZE_LIMIT = 500

needs_slapd = pytest.mark.skipif(
    not (SLAPD.exists() and SLAPADD.exists() and shutil.which("ldapmodify")),
    reason="needs slapd and ldap-utils (apt-get install slapd ldap-utils)",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    given_name: str = "Test"
    surname: str = "Person"
    mail: str = ""
    # Active Directory's userAccountControl (Microsoft's schema, through extensibleObject).
    account_control: int | None = None

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"


@dataclass(frozen=True)
class DirectoryGroup:
    cn: str
    members: tuple[str, ...]  # DNs: people, or other groups (nesting)

    @property
    def dn(self) -> str:
        return f"cn={self.cn},{GROUPS}"


def person_ldif(person: Person) -> str:
    mail = f"mail: {person.mail}\n" if person.mail else ""
    extensible = ""
    if person.account_control is not None:
        extensible = "objectClass: extensibleObject\n"
        mail += f"userAccountControl: {person.account_control}\n"
    return (
        f"dn: {person.dn}\n"
        f"objectClass: inetOrgPerson\n{extensible}"
        f"uid: {person.uid}\n"
        f"cn: {person.given_name} {person.surname}\n"
        f"givenName: {person.given_name}\n"
        f"sn: {person.surname}\n"
        f"{mail}"
        f"userPassword: {person.password}\n\n"
    )


def group_ldif(group: DirectoryGroup) -> str:
    members = "".join(f"member: {member}\n" for member in group.members) or f"member: {BASE_DN}\n"
    return f"dn: {group.dn}\nobjectClass: groupOfNames\ncn: {group.cn}\n{members}\n"


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate for 127.0.0.1 and localhost signed by it (as for mail)."""
    made = make_certificates(directory)
    made.key_file.chmod(0o600)
    return made.ca_file, made.cert_file, made.key_file


def config_ldif(root: Path, cert: Path, key: Path) -> str:
    schemas = "".join(
        f"include: file://{SCHEMA_DIR / name}.ldif\n\n"
        for name in ("core", "cosine", "inetorgperson", "nis", "msuser")
    )
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {root / "slapd.pid"}
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}
olcLogLevel: none

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE_DN}
olcDbDirectory: {root / "data"}
olcDbMaxSize: 1073741824
olcRootDN: {MANAGER_DN}
olcRootPW: {MANAGER_PASSWORD}
olcSizeLimit: size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: member eq
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none

"""


def base_ldif(people: Iterable[Person], groups: Iterable[DirectoryGroup]) -> str:
    head = (
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: example\no: Example\n\n"
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n"
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: console\nuserPassword: {SERVICE_PASSWORD}\n\n"
    )
    return head + "".join(map(person_ldif, people)) + "".join(map(group_ldif, groups))


def _slapadd(*arguments: str) -> None:
    result = subprocess.run([str(SLAPADD), *arguments], capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"slapadd {arguments[0]}: {result.stderr.decode(errors='replace')}")


@dataclass
class Slapd:
    """One running slapd with its own configuration directory, database and TLS files."""

    root: Path
    port: int = 0
    tls_port: int = 0
    ca_file: Path = field(default=Path())
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @classmethod
    def create(
        cls, root: Path, people: Iterable[Person], groups: Iterable[DirectoryGroup] = ()
    ) -> Slapd:
        """Write the configuration and the entries (not started yet)."""
        (root / "config").mkdir(parents=True)
        (root / "data").mkdir()
        ca_file, cert, key = make_tls_files(root)
        (root / "config.ldif").write_text(config_ldif(root, cert, key))
        (root / "data.ldif").write_text(base_ldif(people, groups))
        config_dir = str(root / "config")
        _slapadd("-n0", "-F", config_dir, "-l", str(root / "config.ldif"))
        _slapadd("-q", "-F", config_dir, "-b", BASE_DN, "-l", str(root / "data.ldif"))
        return cls(root=root, ca_file=ca_file)

    def start(self) -> Slapd:
        """Start slapd on free ports (new ones after a stop) and wait until it answers."""
        self.port, self.tls_port = free_port(), free_port()
        self.process = subprocess.Popen(
            [
                str(SLAPD),
                "-d",
                "0",
                "-h",
                f"{self.url}/ {self.tls_url}/",
                "-F",
                str(self.root / "config"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _tool(self, tool: str, ldif: str, *extra: str) -> None:
        result = subprocess.run(
            [tool, "-x", "-H", self.url, "-D", MANAGER_DN, "-w", MANAGER_PASSWORD, *extra],
            input=ldif.encode(),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool}: {result.stderr.decode(errors='replace')}")

    def add(self, ldif: str) -> None:
        self._tool("ldapadd", ldif)

    def modify(self, ldif: str) -> None:
        self._tool("ldapmodify", ldif)

    def delete(self, dn: str) -> None:
        self._tool("ldapdelete", "", dn)

    def console_settings(self, **overrides: object) -> dict[str, object]:
        """The console's FLASK_LDAP_* settings (without the prefix) for this directory."""
        settings: dict[str, object] = {
            "LDAP_URL": self.url,
            "LDAP_START_TLS": True,
            "LDAP_CA_FILE": str(self.ca_file),
            "LDAP_BIND_DN": SERVICE_DN,
            "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "LDAP_USER_BASE": PEOPLE,
            "LDAP_USER_FILTER": "(objectClass=inetOrgPerson)",
            "LDAP_LOGIN_ATTRIBUTE": "uid",
            "LDAP_EMAIL_ATTRIBUTE": "mail",
            "LDAP_FIRST_NAME_ATTRIBUTE": "givenName",
            "LDAP_LAST_NAME_ATTRIBUTE": "sn",
            "LDAP_GROUP_BASE": GROUPS,
        }
        settings.update(overrides)
        return settings


def many_people(count: int, password: str = "bulk-password-1") -> list[Person]:  # noqa: S107
    return [
        Person(f"user{number:05d}", password, f"User{number}", "Bulk", f"user{number}@example.com")
        for number in range(1, count + 1)
    ]
