"""The emulated directory: tenants, people, app registrations, signing keys, grants.

Tables live in the emulator's state file beside ARM's, so the web process, the workers and
the HTTPS server see the same people and the same keys, and a test in another process that
removes a role is noticed at the next sign-in or refresh. Rows are small; people and apps
are read whole.

The shapes follow Microsoft Entra ID as an app sees it: a *user* has an immutable object id
(``oid``) per tenant, a mutable UPN and display name, group memberships and app-role
assignments per application; a *guest* is a separate user object (``userType`` Guest) in the
resource tenant whose home account lives in another tenant; an *app registration* has a
client id, secrets, redirect URIs, app roles and identifier URIs, and a service principal
(its ``oid`` in access tokens for the app itself).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS identity_tenants (
    id TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    display_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_users (
    oid TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    upn TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    user_type TEXT NOT NULL DEFAULT 'Member',
    home_tenant TEXT NOT NULL DEFAULT '',
    home_oid TEXT NOT NULL DEFAULT '',
    groups TEXT NOT NULL DEFAULT '[]',
    roles TEXT NOT NULL DEFAULT '{}',
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS identity_apps (
    client_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    display_name TEXT NOT NULL,
    sp_oid TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created REAL NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_grants (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    expires REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS identity_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    endpoint TEXT NOT NULL,
    grant_type TEXT NOT NULL DEFAULT '',
    client_id TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL
);
"""
#: Emptied by ``Identity.reset``; the signing keys are kept (see ``Identity.reset``).
DIRECTORY_TABLES = (
    "identity_tenants",
    "identity_users",
    "identity_apps",
    "identity_grants",
    "identity_log",
)
KEY_TABLE = "identity_keys"
LOG_KEEP = 20_000

MEMBER = "Member"
GUEST = "Guest"
SINGLE_TENANT = "AzureADMyOrg"
MULTI_TENANT = "AzureADMultipleOrgs"


@dataclass(frozen=True)
class Tenant:
    id: str
    domain: str
    display_name: str


@dataclass(frozen=True)
class User:
    """A user object in one tenant (a guest is its own object in the resource tenant)."""

    oid: str
    tenant: str
    upn: str
    display_name: str
    email: str = ""
    user_type: str = MEMBER
    home_tenant: str = ""
    home_oid: str = ""
    groups: tuple[str, ...] = ()
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_guest(self) -> bool:
        return self.user_type == GUEST

    def roles_for(self, client_id: str) -> tuple[str, ...]:
        """The app-role values assigned to this user for one application."""
        return tuple(self.roles.get(client_id.lower(), ()))


@dataclass(frozen=True)
class AppRole:
    value: str
    display_name: str
    id: str
    description: str = ""


@dataclass(frozen=True)
class App:
    """An app registration and its service principal in its home tenant."""

    client_id: str
    tenant: str
    display_name: str
    sp_oid: str
    redirect_uris: tuple[str, ...] = ()
    logout_uris: tuple[str, ...] = ()
    app_roles: tuple[AppRole, ...] = ()
    identifier_uris: tuple[str, ...] = ()
    sign_in_audience: str = SINGLE_TENANT
    group_claims: bool = False
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def role_values(self) -> tuple[str, ...]:
        return tuple(r.value for r in self.app_roles)

    def body(self) -> dict[str, Any]:
        return {
            "redirect_uris": list(self.redirect_uris),
            "logout_uris": list(self.logout_uris),
            "app_roles": [
                {
                    "value": r.value,
                    "display_name": r.display_name,
                    "id": r.id,
                    "description": r.description,
                }
                for r in self.app_roles
            ],
            "identifier_uris": list(self.identifier_uris),
            "sign_in_audience": self.sign_in_audience,
            "group_claims": self.group_claims,
            "secrets": list(self.secrets),
        }


# --- rows ---------------------------------------------------------------------------------


def create_schema(conn: sqlite3.Connection) -> None:
    """Statement by statement: ``executescript`` would commit a caller's open transaction."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def tenants(conn: sqlite3.Connection) -> list[Tenant]:
    rows = conn.execute("SELECT id, domain, display_name FROM identity_tenants ORDER BY rowid")
    return [Tenant(*r) for r in rows]


def find_tenant(conn: sqlite3.Connection, id_or_domain: str) -> Tenant | None:
    """A tenant by GUID or by (verified) domain, case-insensitively, as Entra resolves the
    ``{tenant}`` segment of its URLs."""
    key = id_or_domain.lower()
    row = conn.execute(
        "SELECT id, domain, display_name FROM identity_tenants WHERE lower(id) = ? "
        "OR lower(domain) = ?",
        (key, key),
    ).fetchone()
    return None if row is None else Tenant(*row)


def put_tenant(conn: sqlite3.Connection, tenant: Tenant) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO identity_tenants (id, domain, display_name) VALUES (?, ?, ?)",
        (tenant.id, tenant.domain, tenant.display_name),
    )


_USER_COLUMNS = (
    "oid, tenant, upn, display_name, email, user_type, home_tenant, home_oid, groups, roles"
)


def _user(row: Sequence[Any]) -> User:
    oid, tenant, upn, name, email, user_type, home_tenant, home_oid, groups, roles = row
    return User(
        oid=oid,
        tenant=tenant,
        upn=upn,
        display_name=name,
        email=email,
        user_type=user_type,
        home_tenant=home_tenant,
        home_oid=home_oid,
        groups=tuple(json.loads(groups)),
        roles={k: tuple(v) for k, v in json.loads(roles).items()},
    )


def users(conn: sqlite3.Connection, tenant: str | None = None) -> list[User]:
    if tenant is None:
        rows = conn.execute(f"SELECT {_USER_COLUMNS} FROM identity_users ORDER BY seq, oid")  # noqa: S608
    else:
        rows = conn.execute(
            f"SELECT {_USER_COLUMNS} FROM identity_users WHERE tenant = ? ORDER BY seq, oid",  # noqa: S608
            (tenant,),
        )
    return [_user(r) for r in rows]


def find_user(conn: sqlite3.Connection, oid_or_upn: str) -> User | None:
    key = oid_or_upn.lower()
    row = conn.execute(
        f"SELECT {_USER_COLUMNS} FROM identity_users WHERE lower(oid) = ? OR lower(upn) = ?",  # noqa: S608
        (key, key),
    ).fetchone()
    return None if row is None else _user(row)


def guest_of(conn: sqlite3.Connection, home_oid: str, tenant: str) -> User | None:
    """The guest object in ``tenant`` that stands for the home account ``home_oid``."""
    row = conn.execute(
        f"SELECT {_USER_COLUMNS} FROM identity_users WHERE tenant = ? AND home_oid = ?",  # noqa: S608
        (tenant, home_oid),
    ).fetchone()
    return None if row is None else _user(row)


def put_user(conn: sqlite3.Connection, user: User, seq: int | None = None) -> None:
    if seq is None:
        seq = int(
            conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM identity_users").fetchone()[0]
        )
    conn.execute(
        "INSERT OR REPLACE INTO identity_users (oid, tenant, upn, display_name, email, "
        "user_type, home_tenant, home_oid, groups, roles, seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user.oid,
            user.tenant,
            user.upn,
            user.display_name,
            user.email,
            user.user_type,
            user.home_tenant,
            user.home_oid,
            json.dumps(list(user.groups)),
            json.dumps({k.lower(): list(v) for k, v in user.roles.items()}),
            seq,
        ),
    )


def user_seq(conn: sqlite3.Connection, oid: str) -> int | None:
    row = conn.execute("SELECT seq FROM identity_users WHERE oid = ?", (oid,)).fetchone()
    return None if row is None else int(row[0])


def delete_user(conn: sqlite3.Connection, oid: str) -> bool:
    return conn.execute("DELETE FROM identity_users WHERE oid = ?", (oid,)).rowcount > 0


def _app(row: Sequence[Any]) -> App:
    client_id, tenant, name, sp_oid, body = row
    data = json.loads(body)
    return App(
        client_id=client_id,
        tenant=tenant,
        display_name=name,
        sp_oid=sp_oid,
        redirect_uris=tuple(data.get("redirect_uris", ())),
        logout_uris=tuple(data.get("logout_uris", ())),
        app_roles=tuple(
            AppRole(r["value"], r["display_name"], r["id"], r.get("description", ""))
            for r in data.get("app_roles", ())
        ),
        identifier_uris=tuple(data.get("identifier_uris", ())),
        sign_in_audience=data.get("sign_in_audience", SINGLE_TENANT),
        group_claims=bool(data.get("group_claims", False)),
        secrets=tuple(data.get("secrets", ())),
    )


def apps(conn: sqlite3.Connection) -> list[App]:
    rows = conn.execute(
        "SELECT client_id, tenant, display_name, sp_oid, body FROM identity_apps ORDER BY rowid"
    )
    return [_app(r) for r in rows]


def find_app(conn: sqlite3.Connection, client_id: str) -> App | None:
    row = conn.execute(
        "SELECT client_id, tenant, display_name, sp_oid, body FROM identity_apps "
        "WHERE lower(client_id) = ?",
        (client_id.lower(),),
    ).fetchone()
    return None if row is None else _app(row)


def put_app(conn: sqlite3.Connection, app: App) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO identity_apps (client_id, tenant, display_name, sp_oid, body) "
        "VALUES (?, ?, ?, ?, ?)",
        (app.client_id, app.tenant, app.display_name, app.sp_oid, json.dumps(app.body())),
    )


# --- grants (authorization codes, refresh tokens) -------------------------------------


@dataclass(frozen=True)
class Grant:
    id: str
    kind: str
    body: dict[str, Any]
    expires: float
    used: bool


def put_grant(
    conn: sqlite3.Connection, grant_id: str, kind: str, body: dict[str, Any], expires: float
) -> None:
    conn.execute(
        "INSERT INTO identity_grants (id, kind, body, expires) VALUES (?, ?, ?, ?)",
        (grant_id, kind, json.dumps(body), expires),
    )


def find_grant(conn: sqlite3.Connection, grant_id: str, kind: str) -> Grant | None:
    row = conn.execute(
        "SELECT id, kind, body, expires, used FROM identity_grants WHERE id = ? AND kind = ?",
        (grant_id, kind),
    ).fetchone()
    if row is None:
        return None
    return Grant(row[0], row[1], json.loads(row[2]), float(row[3]), bool(row[4]))


def use_grant(conn: sqlite3.Connection, grant_id: str) -> None:
    conn.execute("UPDATE identity_grants SET used = 1 WHERE id = ?", (grant_id,))


def revoke_refresh_tokens(conn: sqlite3.Connection, oid: str) -> int:
    """Mark every refresh token of one user used (``revokeSignInSessions``)."""
    revoked = 0
    rows = conn.execute(
        "SELECT id, body FROM identity_grants WHERE kind = 'refresh' AND used = 0"
    ).fetchall()
    for grant_id, body in rows:
        if json.loads(body).get("oid") == oid:
            use_grant(conn, grant_id)
            revoked += 1
    return revoked


def forget_expired_grants(conn: sqlite3.Connection, now: float) -> None:
    conn.execute("DELETE FROM identity_grants WHERE expires < ?", (now - 86400,))


# --- log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One call to the emulated Entra ID: which endpoint, which grant, for whom, and how
    it ended (``ok`` or the AADSTS error code)."""

    id: int
    at: float
    endpoint: str
    grant_type: str
    client_id: str
    subject: str
    outcome: str


def write_log(
    conn: sqlite3.Connection,
    at: float,
    endpoint: str,
    outcome: str,
    *,
    grant_type: str = "",
    client_id: str = "",
    subject: str = "",
) -> None:
    cur = conn.execute(
        "INSERT INTO identity_log (at, endpoint, grant_type, client_id, subject, outcome) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (at, endpoint, grant_type, client_id, subject, outcome),
    )
    last = int(cur.lastrowid or 0)
    if last % 1000 == 0:  # keep the log bounded, like the request log
        conn.execute("DELETE FROM identity_log WHERE id <= ?", (last - LOG_KEEP,))


def read_log(conn: sqlite3.Connection, since_id: int = 0) -> list[LogEntry]:
    rows = conn.execute(
        "SELECT id, at, endpoint, grant_type, client_id, subject, outcome FROM identity_log "
        "WHERE id > ? ORDER BY id",
        (since_id,),
    )
    return [LogEntry(*r) for r in rows]
