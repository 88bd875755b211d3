""":class:`Identity`: the emulated Entra ID of one state file, from Python and over HTTP.

Reached as ``Emulator(...).identity``. Everything is in the state file, so a change made here
(a role removed, a user renamed, a key rotated) is what the HTTPS server in another process
serves at the next request. The directory is seeded on first use (``seed.py``); the signing
keys too (RSA key generation is the only slow step, ~0.1 s, so it is not paid by the many
tests and processes that never touch identity).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from contoso_images.arm_emulator import clock
from contoso_images.arm_emulator.errors import ArmError
from contoso_images.arm_emulator.state import Store
from contoso_images.arm_emulator.wire import Response

from . import arm_auth, directory, keys, seed, tokens
from .directory import MEMBER, MULTI_TENANT, SINGLE_TENANT, App, LogEntry, Tenant, User
from .keys import SigningKey
from .protocol import Call, Endpoints

SETTINGS_KEY = "identity_settings"
SEEDED_KEY = "identity_seeded"
#: Resource Manager's identifiers as public Azure accepts them (the audiences its 401 lists).
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")


@dataclass(frozen=True)
class IdentitySettings:
    access_token_seconds: int = 3600
    id_token_seconds: int = 3600
    code_seconds: int = 600  # "about 10 minutes" (v2-oauth2-auth-code-flow)
    refresh_token_seconds: int = 90 * 86400
    require_tokens: bool = False
    arm_audiences: tuple[str, ...] = ARM_AUDIENCES

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> IdentitySettings:
        values = dict(stored or {})
        if "arm_audiences" in values:
            values["arm_audiences"] = tuple(values["arm_audiences"])
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class Identity:
    """The emulated Microsoft Entra ID (directory, keys, OIDC/OAuth endpoints, ARM's check)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    # --- plumbing --------------------------------------------------------------------------

    @staticmethod
    def clock() -> float:
        """Real time: tokens are judged by clients on the real clock (tokens.py)."""
        return clock.wall()

    def _schema(self) -> sqlite3.Connection:
        conn = self.store.conn()
        if not self._schema_ready:
            with self._schema_lock:
                if not self._schema_ready:
                    directory.create_schema(conn)
                    self._schema_ready = True
        return conn

    def _ready(self) -> sqlite3.Connection:
        """The schema exists and the directory and keys are seeded."""
        conn = self._schema()
        if self.store.meta_get(SEEDED_KEY) is None:
            with self.store.write() as wconn:
                if self.store.meta_get(SEEDED_KEY) is None:
                    self._seed(wconn)
                    self.store.meta_set(SEEDED_KEY, True)
        return conn

    def _seed(self, conn: sqlite3.Connection) -> None:
        for tenant in seed.TENANTS:
            directory.put_tenant(conn, tenant)
        for position, user in enumerate(seed.users(), start=1):
            directory.put_user(conn, user, seq=position)
        for app in seed.apps():
            directory.put_app(conn, app)
        keys.ensure(conn, self.clock())

    def reset(self) -> None:
        """Forget people, apps, grants, log and settings; the next use seeds them again.

        The signing keys are kept: a running gateway's cached token (same tenant, same service
        principal after reseeding) stays valid instead of failing until it expires."""
        conn = self._schema()
        with self.store.write():
            for table in directory.DIRECTORY_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self.store.meta_delete(SEEDED_KEY, SETTINGS_KEY)

    # --- settings --------------------------------------------------------------------------

    def settings(self) -> IdentitySettings:
        return IdentitySettings.from_stored(self.store.meta_get(SETTINGS_KEY))

    def _set(self, **changes: Any) -> None:
        with self.store.write():
            new = replace(self.settings(), **changes)
            stored = asdict(new)
            stored["arm_audiences"] = list(new.arm_audiences)
            self.store.meta_set(SETTINGS_KEY, stored)

    def set_token_lifetimes(
        self,
        *,
        access: int | None = None,
        id_token: int | None = None,
        code: int | None = None,
        refresh: int | None = None,
    ) -> None:
        """Seconds tokens live (short in tests, so refresh is exercised)."""
        changes = {
            name: int(value)
            for name, value in (
                ("access_token_seconds", access),
                ("id_token_seconds", id_token),
                ("code_seconds", code),
                ("refresh_token_seconds", refresh),
            )
            if value is not None
        }
        if any(v < 0 for v in changes.values()):
            raise ValueError("lifetimes must be >= 0")
        self._set(**changes)

    def require_tokens(self, on: bool = True) -> None:
        """Make Resource Manager check bearer tokens on every path, the in-process transport
        included (the HTTPS server always checks)."""
        self._set(require_tokens=bool(on))

    def tokens_required(self) -> bool:
        stored = self.store.meta_get(SETTINGS_KEY)
        return bool(stored and stored.get("require_tokens"))

    def arm_audiences(self) -> tuple[str, ...]:
        return self.settings().arm_audiences

    def add_arm_audience(self, uri: str) -> None:
        """Accept tokens for ``uri`` as Resource Manager's (the HTTPS server adds its own
        origin, so ``AZURE_CREDENTIAL_SCOPE`` may default to ``{endpoint}/.default``)."""
        current = self.arm_audiences()
        if uri.rstrip("/").lower() not in {a.rstrip("/").lower() for a in current}:
            self._set(arm_audiences=(*current, uri))

    # --- directory: reading ------------------------------------------------------------------

    def tenants(self) -> list[Tenant]:
        return directory.tenants(self._ready())

    def tenant(self, id_or_domain: str) -> Tenant:
        found = directory.find_tenant(self._ready(), id_or_domain)
        if found is None:
            raise LookupError(f"no tenant {id_or_domain!r}")
        return found

    def users(self, tenant: str | None = None) -> list[User]:
        return directory.users(self._ready(), tenant)

    def user(self, oid_or_upn: str) -> User:
        found = directory.find_user(self._ready(), oid_or_upn)
        if found is None:
            raise LookupError(f"no user {oid_or_upn!r}")
        return found

    def apps(self) -> list[App]:
        return directory.apps(self._ready())

    def app(self, client_id: str) -> App:
        found = directory.find_app(self._ready(), client_id)
        if found is None:
            raise LookupError(f"no app {client_id!r}")
        return found

    # --- directory: changes --------------------------------------------------------------------

    def add_user(
        self,
        display_name: str,
        upn: str,
        *,
        tenant: str = seed.CONTOSO_TENANT_ID,
        roles: Sequence[str] = (),
        groups: Iterable[str] = (),
        email: str | None = None,
        oid: str | None = None,
        client_id: str = seed.DASHBOARD_CLIENT_ID,
    ) -> User:
        """A new member of ``tenant`` (roles for ``client_id``)."""
        self._ready()
        user = User(
            oid=oid or str(uuid.uuid4()),
            tenant=self.tenant(tenant).id,
            upn=upn,
            display_name=display_name,
            email=upn if email is None else email,
            user_type=MEMBER,
            groups=tuple(groups),
            roles={client_id.lower(): self._checked_roles(client_id, roles)} if roles else {},
        )
        with self.store.write() as conn:
            if directory.find_user(conn, upn) is not None:
                raise ValueError(f"a user {upn!r} exists")
            directory.put_user(conn, user)
        return user

    def remove_user(self, oid_or_upn: str) -> None:
        """Delete the user object; its refresh tokens stop working (AADSTS50034)."""
        user = self.user(oid_or_upn)
        with self.store.write() as conn:
            directory.delete_user(conn, user.oid)

    def rename_user(
        self,
        oid_or_upn: str,
        *,
        display_name: str | None = None,
        upn: str | None = None,
        email: str | None = None,
    ) -> User:
        """Change the mutable names (``oid`` never changes: that is why apps key on it)."""
        return self._update(
            oid_or_upn,
            **{
                k: v
                for k, v in (("display_name", display_name), ("upn", upn), ("email", email))
                if v is not None
            },
        )

    def set_roles(
        self, oid_or_upn: str, roles: Sequence[str], client_id: str = seed.DASHBOARD_CLIENT_ID
    ) -> User:
        """Replace the user's app-role assignments for one app (empty: none)."""
        checked = self._checked_roles(client_id, roles)
        current = self.user(oid_or_upn)
        new_roles = {k: v for k, v in current.roles.items() if k != client_id.lower()}
        if checked:
            new_roles[client_id.lower()] = checked
        return self._update(oid_or_upn, roles=new_roles)

    def set_groups(self, oid_or_upn: str, groups: Iterable[str]) -> User:
        return self._update(oid_or_upn, groups=tuple(groups))

    def _checked_roles(self, client_id: str, roles: Sequence[str]) -> tuple[str, ...]:
        defined = self.app(client_id).role_values()
        unknown = [r for r in roles if r not in defined]
        if unknown:
            raise ValueError(f"app {client_id} defines no role {unknown}; it has {defined}")
        return tuple(dict.fromkeys(roles))

    def _update(self, oid_or_upn: str, **changes: Any) -> User:
        user = self.user(oid_or_upn)
        new = replace(user, **changes)
        with self.store.write() as conn:
            directory.put_user(conn, new, seq=directory.user_seq(conn, user.oid))
        return new

    def set_redirect_uris(self, client_id: str, uris: Sequence[str]) -> App:
        return self._update_app(client_id, redirect_uris=tuple(uris))

    def set_logout_uris(self, client_id: str, uris: Sequence[str]) -> App:
        return self._update_app(client_id, logout_uris=tuple(uris))

    def set_sign_in_audience(self, client_id: str, audience: str) -> App:
        """``AzureADMyOrg`` (single tenant) or ``AzureADMultipleOrgs``."""
        if audience not in (SINGLE_TENANT, MULTI_TENANT):
            raise ValueError(f"audience must be {SINGLE_TENANT} or {MULTI_TENANT}")
        return self._update_app(client_id, sign_in_audience=audience)

    def add_client_secret(self, client_id: str, secret: str | None = None) -> str:
        value = secret or f"emu~{secrets.token_urlsafe(24)}"
        app = self.app(client_id)
        self._update_app(client_id, secrets=(*app.secrets, value))
        return value

    def remove_client_secret(self, client_id: str, secret: str) -> App:
        app = self.app(client_id)
        return self._update_app(client_id, secrets=tuple(s for s in app.secrets if s != secret))

    def _update_app(self, client_id: str, **changes: Any) -> App:
        new = replace(self.app(client_id), **changes)
        with self.store.write() as conn:
            directory.put_app(conn, new)
        return new

    def revoke_sessions(self, oid_or_upn: str) -> int:
        """``revokeSignInSessions``: every refresh token of the user stops working
        (AADSTS50173). Returns how many were revoked."""
        user = self.user(oid_or_upn)
        with self.store.write() as conn:
            return directory.revoke_refresh_tokens(conn, user.oid)

    # --- keys --------------------------------------------------------------------------------

    def signing_keys(self) -> list[SigningKey]:
        return keys.keys(self._ready())

    def jwks(self, issuer: str | None = None) -> dict[str, Any]:
        return keys.jwks(self._ready(), issuer)

    def rotate_keys(self, *, keep_previous: bool = True) -> str:
        """Next key becomes current (a new next is published); returns the new ``kid``.
        ``keep_previous=False`` drops the old key at once: tokens it signed are refused."""
        self._ready()
        with self.store.write() as conn:
            return keys.rotate(conn, self.clock(), keep_previous=keep_previous)

    # --- tokens for tests and tools ---------------------------------------------------------

    def issue_access_token(
        self,
        client_id: str = seed.GATEWAY_CLIENT_ID,
        *,
        audience: str = "https://management.azure.com/",
        lifetime: int | None = None,
        tenant: str | None = None,
        not_before: float | None = None,
    ) -> str:
        """An app-only access token exactly as the token endpoint issues it (a negative
        ``lifetime`` gives an expired one)."""
        conn = self._ready()
        app = self.app(client_id)
        issued = int(self.clock() if not_before is None else not_before)
        claims = tokens.app_access_token_claims(
            tenant=tenant or app.tenant,
            app=app,
            audience=audience,
            now=issued,
            lifetime=self.settings().access_token_seconds if lifetime is None else lifetime,
        )
        return keys.sign(conn, claims, x5t=True)

    def forge_access_token(self, client_id: str = seed.GATEWAY_CLIENT_ID) -> str:
        """A token with valid claims and the current ``kid``, signed by another key."""
        conn = self._ready()
        app = self.app(client_id)
        claims = tokens.app_access_token_claims(
            tenant=app.tenant,
            app=app,
            audience="https://management.azure.com/",
            now=int(self.clock()),
            lifetime=3600,
        )
        return keys.sign_with_foreign_key(claims, keys.current_kid(conn))

    def log(self, *, since_id: int = 0) -> list[LogEntry]:
        """Every call to the identity endpoints (tests count token requests with it)."""
        return directory.read_log(self._schema(), since_id)

    # --- HTTP ----------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request to the identity endpoints (``protocol.py``)."""
        self._ready()
        resp: Response = Endpoints(self, Call.parse(method, url, headers, body)).answer()
        head = {**resp.headers, "Content-Length": str(len(resp.body))}
        return resp.status, head, resp.body

    @staticmethod
    def arm_token_caller(headers: Mapping[str, str]) -> str:
        """Who the bearer token of a request ``check_arm_token`` accepted names, for the
        request log (``arm_auth.caller``)."""
        return arm_auth.caller(headers)

    def check_arm_token(self, url: str, path: str, headers: Mapping[str, str]) -> ArmError | None:
        """Resource Manager's bearer-token check (``arm_auth.py``)."""
        conn = self._ready()
        return arm_auth.check(
            conn,
            url=url,
            path=path,
            headers=headers,
            audiences=self.arm_audiences(),
            now=self.clock(),
        )
