"""The emulated Entra ID endpoints (OpenID Connect / OAuth 2.0, v2.0), one tenant path each.

``/{tenant}/v2.0/.well-known/openid-configuration``  discovery (v2-protocols-oidc)
``/{tenant}/discovery/v2.0/keys``                     JWKS
``/{tenant}/oauth2/v2.0/authorize``                   account picker → code (+ PKCE, state, nonce)
``/{tenant}/oauth2/v2.0/token``                       authorization_code, refresh_token,
                                                      client_credentials
``/{tenant}/oauth2/v2.0/logout``                      end_session_endpoint

``{tenant}`` is a tenant GUID, one of its domains, or ``organizations`` / ``common`` (only
for apps registered as multi-tenant). Every URL in the discovery document is built from the
origin the request came to (https, with the port), so MSAL's ``canonicalize()`` accepts both
the authority and the ``token_endpoint`` (azure-facts §16.2). Every answer is logged in the
identity log (endpoint, grant, client, subject, ``ok`` or the AADSTS code).
"""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import jwt

from contoso_images.arm_emulator.wire import Response, json_response

from . import directory, keys, pages, tokens
from .directory import MEMBER, MULTI_TENANT, App, Tenant, User
from .errors import OAuthError, missing

if TYPE_CHECKING:
    from .service import Identity

MULTI_TENANT_SEGMENTS = ("organizations", "common")
RESPONSE_MODES = ("query", "fragment", "form_post")


def _no_store(resp: Response) -> Response:
    resp.headers.update({"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})
    return resp


@dataclass
class Call:
    """One request to the identity endpoints."""

    method: str
    base: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: Mapping[str, str]

    @classmethod
    def parse(cls, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Call:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form: dict[str, str] = {}
        if body:
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return cls(
            method.upper(), f"{parts.scheme}://{parts.netloc}", parts.path, query, form, headers
        )

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def params(self) -> dict[str, str]:
        """Query and form together (the form wins), as Entra reads authorize/logout."""
        return {**self.query, **self.form}


class Endpoints:
    """Answers one call; ``identity`` gives the state, the settings and the clock."""

    def __init__(self, identity: Identity, call: Call) -> None:
        self.identity = identity
        self.call = call
        self.now = identity.clock()
        self.settings = identity.settings()

    # --- dispatch ------------------------------------------------------------------------

    def answer(self) -> Response:
        segments = [unquote(s) for s in self.call.path.strip("/").split("/")]
        tenant_segment, rest = segments[0], "/".join(segments[1:]).lower()
        handler = {
            "v2.0/.well-known/openid-configuration": self.discovery,
            "discovery/v2.0/keys": self.jwks,
            "discovery/keys": self.jwks,
            "oauth2/v2.0/authorize": self.authorize,
            "oauth2/v2.0/token": self.token,
            "oauth2/v2.0/logout": self.logout,
        }.get(rest)
        if handler is None:
            return json_response(404, {"error": "not_found", "error_description": "Not found."})
        try:
            return handler(tenant_segment)
        except OAuthError as err:
            return self._error_json(err)

    def _error_json(self, err: OAuthError) -> Response:
        return _no_store(json_response(err.status, err.payload(self.call.base, self.now)))

    def _log(self, endpoint: str, outcome: str, **fields: str) -> None:
        with self.identity.store.write() as conn:
            directory.write_log(conn, self.now, endpoint, outcome, **fields)

    # --- tenants -------------------------------------------------------------------------

    def _authority(self, segment: str) -> tuple[Tenant | None, bool]:
        """(tenant, multi): ``organizations``/``common`` is (None, True)."""
        if segment.lower() in MULTI_TENANT_SEGMENTS:
            return None, True
        found = directory.find_tenant(self.identity.store.conn(), segment)
        if found is None:
            raise OAuthError("invalid_tenant", 90002, {"tenant": segment})
        return found, False

    def _prefix(self, tenant: Tenant | None, segment: str) -> str:
        return f"{self.call.base}/{tenant.id if tenant else segment.lower()}"

    # --- discovery and keys ----------------------------------------------------------------

    def discovery(self, segment: str) -> Response:
        tenant, _multi = self._authority(segment)
        prefix = self._prefix(tenant, segment)
        issuer = tokens.v2_issuer(self.call.base, tenant.id if tenant else "{tenantid}")
        doc = {
            "token_endpoint": f"{prefix}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{prefix}/discovery/v2.0/keys",
            "response_modes_supported": list(RESPONSE_MODES),
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": issuer,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{prefix}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{prefix}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{prefix}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{prefix}/kerberos",
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        resp = json_response(200, doc)
        resp.headers["Cache-Control"] = "max-age=86400, private"
        return resp

    def jwks(self, segment: str) -> Response:
        tenant, _multi = self._authority(segment)
        issuer = tokens.v2_issuer(self.call.base, tenant.id if tenant else "{tenantid}")
        resp = json_response(200, self.identity.jwks(issuer=issuer))
        resp.headers["Cache-Control"] = "max-age=86400, private"
        return resp

    # --- authorize -----------------------------------------------------------------------

    def authorize(self, segment: str) -> Response:
        params = self.call.params
        try:
            tenant, multi = self._authority(segment)
            app, redirect_uri = self._authorize_client(params, tenant, multi)
        except OAuthError as err:
            # The app or its redirect URI is in doubt: Entra shows the error, never redirects.
            self._log("authorize", f"AADSTS{err.code}", client_id=params.get("client_id", ""))
            return Response(
                400,
                {"Content-Type": "text/html; charset=utf-8"},
                pages.error_page(err.description_text()),
            )
        mode = params.get("response_mode") or "query"
        state = params.get("state")
        try:
            scopes = self._authorize_checks(params, mode)
        except OAuthError as err:
            self._log("authorize", f"AADSTS{err.code}", client_id=app.client_id)
            return self._redirect_error(
                redirect_uri, mode if mode in RESPONSE_MODES else "query", err, state
            )
        login = params.get("login")
        if not login:
            return self._account_picker(tenant, multi, app, params)
        if login == "cancel":
            declined = OAuthError("access_denied", 65004, {})
            self._log("authorize", "AADSTS65004", client_id=app.client_id)
            return self._redirect_error(redirect_uri, mode, declined, state)
        try:
            user = self._signing_in(login, tenant, multi, app)
        except OAuthError as err:
            self._log("authorize", f"AADSTS{err.code}", client_id=app.client_id, subject=login)
            return Response(
                400,
                {"Content-Type": "text/html; charset=utf-8"},
                pages.error_page(err.description_text()),
            )
        code = tokens.opaque(48)
        sid = tokens.opaque(12)
        with self.identity.store.write() as conn:
            directory.forget_expired_grants(conn, self.now)
            directory.put_grant(
                conn,
                tokens.hashed(code),
                "code",
                {
                    "client_id": app.client_id,
                    "redirect_uri": redirect_uri,
                    "oid": user.oid,
                    "tenant": user.tenant,
                    "scopes": scopes,
                    "nonce": params.get("nonce"),
                    "challenge": params.get("code_challenge"),
                    "challenge_method": params.get("code_challenge_method") or "plain",
                    "sid": sid,
                },
                self.now + self.settings.code_seconds,
            )
            directory.write_log(
                conn, self.now, "authorize", "ok", client_id=app.client_id, subject=user.oid
            )
        result = {"code": code}
        if state is not None:
            result["state"] = state
        result["session_state"] = sid
        return self._deliver(redirect_uri, mode, result)

    def _authorize_client(
        self, params: Mapping[str, str], tenant: Tenant | None, multi: bool
    ) -> tuple[App, str]:
        client_id = params.get("client_id")
        if not client_id:
            raise missing("client_id")
        app = self._app(client_id, tenant, multi)
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            raise missing("redirect_uri")
        if redirect_uri not in app.redirect_uris:  # Entra compares exactly (trailing slash too)
            raise OAuthError(
                "invalid_request", 50011, {"redirect_uri": redirect_uri, "client_id": app.client_id}
            )
        return app, redirect_uri

    def _app(self, client_id: str, tenant: Tenant | None, multi: bool) -> App:
        app = directory.find_app(self.identity.store.conn(), client_id)
        if app is None or (
            tenant is not None and app.tenant != tenant.id and app.sign_in_audience != MULTI_TENANT
        ):
            name = tenant.display_name if tenant else "organizations"
            raise OAuthError(
                "unauthorized_client", 700016, {"client_id": client_id, "tenant": name}
            )
        if multi and app.sign_in_audience != MULTI_TENANT:
            raise OAuthError(
                "invalid_request", 50194, {"client_id": app.client_id, "app_name": app.display_name}
            )
        return app

    def _authorize_checks(self, params: Mapping[str, str], mode: str) -> list[str]:
        if mode not in RESPONSE_MODES:
            raise OAuthError("invalid_request", 9002313, {})
        response_type = params.get("response_type")
        if not response_type:
            raise missing("response_type")
        if response_type != "code":
            raise OAuthError("unsupported_response_type", 700054, {"response_type": response_type})
        scope = params.get("scope")
        if not scope:
            raise missing("scope")
        if params.get("code_challenge"):
            method = params.get("code_challenge_method") or "plain"
            if method not in ("S256", "plain"):
                raise OAuthError("invalid_request", 50149, {})
        if params.get("prompt") == "none":
            raise OAuthError("login_required", 50058, {})
        return scope.split()

    def _account_picker(
        self, tenant: Tenant | None, multi: bool, app: App, params: Mapping[str, str]
    ) -> Response:
        people = self.identity.users()
        if multi:
            here = [u for u in people if u.user_type == MEMBER]
            elsewhere: list[User] = []
        else:
            assert tenant is not None
            here = [u for u in people if u.tenant == tenant.id]
            homes = {u.home_oid for u in here if u.home_oid}
            elsewhere = [u for u in people if u.tenant != tenant.id and u.oid not in homes]
        body = pages.pick_account(
            tenant=tenant,
            app=app,
            action=self.call.path,
            params=params,
            here=here,
            elsewhere=elsewhere,
        )
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, body)

    def _signing_in(self, login: str, tenant: Tenant | None, multi: bool, app: App) -> User:
        """The user object the session is for, as Entra resolves a sign-in: a member of the
        authority's tenant, or the guest object standing for a home account elsewhere."""
        conn = self.identity.store.conn()
        user = directory.find_user(conn, login)
        if user is None:
            raise OAuthError(
                "invalid_grant", 50034, {"tenant": tenant.id if tenant else "organizations"}
            )
        if multi:
            if user.is_guest:  # a guest signs in at home when the authority is organizations
                home = directory.find_user(conn, user.home_oid)
                if home is None:
                    raise OAuthError("invalid_grant", 50034, {"tenant": user.home_tenant})
                return home
            return user
        assert tenant is not None
        if user.tenant == tenant.id:
            return user
        guest = directory.guest_of(conn, user.oid, tenant.id)
        if guest is not None:
            return guest
        raise OAuthError(
            "invalid_grant",
            50020,
            {
                "upn": user.upn,
                "idp": tokens.v1_issuer(user.tenant),
                "tenant": tenant.id,
                "client_id": app.client_id,
                "app_name": app.display_name,
            },
        )

    def _deliver(self, redirect_uri: str, mode: str, fields: Mapping[str, str]) -> Response:
        if mode == "form_post":
            return Response(
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                pages.form_post(redirect_uri, fields),
            )
        encoded = urlencode(fields)
        if mode == "fragment":
            location = f"{redirect_uri}#{encoded}"
        else:
            location = f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{encoded}"
        return Response(302, {"Location": location, "Cache-Control": "no-store, no-cache"})

    def _redirect_error(
        self, redirect_uri: str, mode: str, err: OAuthError, state: str | None
    ) -> Response:
        payload = err.payload(self.call.base, self.now)
        fields = {"error": err.error, "error_description": payload["error_description"]}
        if state is not None:
            fields["state"] = state
        return self._deliver(redirect_uri, mode, fields)

    # --- token ---------------------------------------------------------------------------

    def token(self, segment: str) -> Response:
        form = self.call.form
        grant_type = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        try:
            if self.call.method != "POST":
                raise OAuthError("invalid_request", 900561, {"method": self.call.method})
            tenant, _multi = self._authority(segment)
            app = self._authenticate_client(tenant)
            client_id = app.client_id
            if not grant_type:
                raise missing("grant_type")
            if grant_type == "client_credentials":
                if tenant is None:
                    raise OAuthError("invalid_request", 50059, {})
                result, subject = self._client_credentials(app, tenant), app.sp_oid
            elif grant_type == "authorization_code":
                result, subject = self._redeem_code(app)
            elif grant_type == "refresh_token":
                result, subject = self._refresh(app)
            else:
                raise OAuthError("unsupported_grant_type", 70003, {"grant_type": grant_type})
        except OAuthError as err:
            self._log("token", f"AADSTS{err.code}", grant_type=grant_type, client_id=client_id)
            return self._error_json(err)
        self._log("token", "ok", grant_type=grant_type, client_id=client_id, subject=subject)
        return _no_store(json_response(200, result))

    def _authenticate_client(self, tenant: Tenant | None) -> App:
        """client_secret_post or client_secret_basic; every app here is confidential."""
        form = self.call.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = self.call.header("Authorization")
        if basic and basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:].strip()).decode()
                basic_id, _, basic_secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise OAuthError("invalid_client", 9002313, {}, status=401) from exc
            client_id, secret = unquote(basic_id), unquote(basic_secret)
        if not client_id:
            raise missing("client_id")
        # At organizations/common the code names the tenant; the app's audience was checked
        # when it was issued.
        app = self._app(client_id, tenant, multi=False)
        if not secret:
            raise OAuthError("invalid_client", 7000218, {}, status=401)
        if not any(hmac.compare_digest(secret, s) for s in app.secrets):
            raise OAuthError("invalid_client", 7000215, {"client_id": app.client_id}, status=401)
        return app

    def _resource(self, scopes: list[str], tenant_name: str) -> tuple[str, list[str]]:
        """(audience, scopes for that resource) from the requested scopes."""
        wanted = [s for s in scopes if s.lower() not in tokens.OIDC_SCOPES]
        if not wanted:
            return tokens.GRAPH_APP_ID, ["User.Read"]
        first = wanted[0]
        if first.endswith("/.default"):
            resource = first[: -len("/.default")]
        elif "://" in first:
            resource = first.rsplit("/", 1)[0]
        else:
            return tokens.GRAPH_APP_ID, wanted
        perms = [s.rsplit("/", 1)[-1] for s in wanted]
        norm = resource.rstrip("/").lower()
        if norm in {a.rstrip("/").lower() for a in self.settings.arm_audiences}:
            return resource, perms
        if norm in ("https://graph.microsoft.com", tokens.GRAPH_APP_ID):
            return "https://graph.microsoft.com", perms
        for app in self.identity.apps():
            if norm in {u.rstrip("/").lower() for u in (*app.identifier_uris, app.client_id)}:
                return resource, perms
        raise OAuthError("invalid_resource", 500011, {"resource": resource, "tenant": tenant_name})

    def _client_credentials(self, app: App, tenant: Tenant) -> dict[str, Any]:
        scope = self.call.form.get("scope")
        if not scope:
            raise missing("scope")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise OAuthError("invalid_scope", 1002012, {"scope": scope})
        audience, _perms = self._resource(scopes, tenant.display_name)
        lifetime = self.settings.access_token_seconds
        now = int(self.now)
        conn = self.identity.store.conn()
        access = keys.sign(
            conn,
            tokens.app_access_token_claims(
                tenant=tenant.id, app=app, audience=audience, now=now, lifetime=lifetime
            ),
            x5t=True,
        )
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
        }

    def _redeem_code(self, app: App) -> tuple[dict[str, Any], str]:
        form = self.call.form
        code = form.get("code")
        if not code:
            raise missing("code")
        redirect_uri = form.get("redirect_uri")
        if not redirect_uri:
            raise missing("redirect_uri")
        result: dict[str, Any] | None = None
        error: OAuthError | None = None
        with self.identity.store.write() as conn:
            grant = directory.find_grant(conn, tokens.hashed(code), "code")
            if grant is None:
                error = OAuthError("invalid_grant", 9002313, {})
            elif grant.used:
                error = OAuthError("invalid_grant", 54005, {})
            else:
                # Single use from the first redemption attempt on, whatever its outcome: the
                # block commits the mark even when the attempt is refused.
                directory.use_grant(conn, grant.id)
                error = self._code_problem(grant.body, grant.expires, app, redirect_uri)
                user = None if error else directory.find_user(conn, grant.body["oid"])
                if error is None and user is None:
                    error = OAuthError("invalid_grant", 50034, {"tenant": grant.body["tenant"]})
                if error is None and user is not None:
                    scopes = form.get("scope", "").split() or list(grant.body["scopes"])
                    result = self._user_tokens(
                        conn,
                        user,
                        app,
                        scopes,
                        nonce=grant.body.get("nonce"),
                        sid=grant.body["sid"],
                    )
        if error is not None:
            raise error
        assert result is not None and grant is not None
        return result, str(grant.body["oid"])

    def _code_problem(
        self, body: Mapping[str, Any], expires: float, app: App, redirect_uri: str
    ) -> OAuthError | None:
        if expires < self.now:
            return OAuthError("invalid_grant", 70008, {})
        if str(body["client_id"]).lower() != app.client_id.lower():
            return OAuthError("invalid_grant", 70000, {})
        if redirect_uri != body["redirect_uri"]:
            return OAuthError(
                "invalid_grant", 500112, {"given": redirect_uri, "expected": body["redirect_uri"]}
            )
        challenge = body.get("challenge")
        if challenge:
            verifier = self.call.form.get("code_verifier") or ""
            method = body.get("challenge_method") or "plain"
            computed = tokens.s256(verifier) if method == "S256" else verifier
            if not verifier or not hmac.compare_digest(computed, str(challenge)):
                return OAuthError("invalid_grant", 501481, {})
        return None

    def _refresh(self, app: App) -> tuple[dict[str, Any], str]:
        form = self.call.form
        refresh = form.get("refresh_token")
        if not refresh:
            raise missing("refresh_token")
        with self.identity.store.write() as conn:
            grant = directory.find_grant(conn, tokens.hashed(refresh), "refresh")
            if grant is None:
                raise OAuthError("invalid_grant", 9002313, {})
            body = grant.body
            if body["client_id"].lower() != app.client_id.lower():
                raise OAuthError("invalid_grant", 70000, {})
            if grant.used:
                stamp = _stamp(body.get("issued", self.now))
                raise OAuthError(
                    "invalid_grant", 50173, {"issued": stamp, "valid_from": _stamp(self.now)}
                )
            if grant.expires < self.now:
                raise OAuthError("invalid_grant", 70008, {})
            user = directory.find_user(conn, body["oid"])
            if user is None:
                raise OAuthError("invalid_grant", 50034, {"tenant": body["tenant"]})
            scopes = form.get("scope", "").split() or list(body["scopes"])
            if "offline_access" not in scopes:
                scopes.append("offline_access")
            # Roles, groups and names are read again: a change in the directory shows here.
            result = self._user_tokens(conn, user, app, scopes, nonce=None, sid=body["sid"])
        return result, user.oid

    def _user_tokens(
        self,
        conn: Any,
        user: User,
        app: App,
        scopes: list[str],
        *,
        nonce: str | None,
        sid: str,
    ) -> dict[str, Any]:
        tenant = directory.find_tenant(conn, user.tenant)
        audience, perms = self._resource(scopes, tenant.display_name if tenant else user.tenant)
        now = int(self.now)
        lifetime = self.settings.access_token_seconds
        access = keys.sign(
            conn,
            tokens.user_access_token_claims(
                user=user, app=app, audience=audience, scopes=perms, now=now, lifetime=lifetime
            ),
            x5t=True,
        )
        result: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join([*(s for s in scopes if s.lower() in tokens.OIDC_SCOPES), *perms]),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
        }
        if "openid" in scopes:
            result["id_token"] = keys.sign(
                conn,
                tokens.id_token_claims(
                    base=self.call.base,
                    user=user,
                    app=app,
                    scopes=scopes,
                    nonce=nonce,
                    sid=sid,
                    now=now,
                    lifetime=self.settings.id_token_seconds,
                ),
            )
        if "offline_access" in scopes:
            refresh = tokens.opaque(64)
            directory.put_grant(
                conn,
                tokens.hashed(refresh),
                "refresh",
                {
                    "client_id": app.client_id,
                    "oid": user.oid,
                    "tenant": user.tenant,
                    "scopes": scopes,
                    "sid": sid,
                    "issued": self.now,
                },
                self.now + self.settings.refresh_token_seconds,
            )
            result["refresh_token"] = refresh
        if self.call.form.get("client_info") == "1":
            result["client_info"] = tokens.client_info(user)
        return result

    # --- logout --------------------------------------------------------------------------

    def logout(self, segment: str) -> Response:
        params = self.call.params
        self._authority(segment)
        target = params.get("post_logout_redirect_uri")
        app = self._logout_app(params)
        self._log("logout", "ok", client_id=app.client_id if app else "")
        if target and app and target in (*app.logout_uris, *app.redirect_uris):
            state = params.get("state")
            location = target
            if state is not None:
                location += f"{'&' if '?' in target else '?'}{urlencode({'state': state})}"
            return Response(302, {"Location": location, "Cache-Control": "no-store, no-cache"})
        note = ""
        if target:
            note = (
                f"The sign-out address '{target}' is not registered for the application, so "
                "you were not sent back to it."
            )
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, pages.signed_out(note))

    def _logout_app(self, params: Mapping[str, str]) -> App | None:
        conn = self.identity.store.conn()
        client_id = params.get("client_id")
        hint = params.get("id_token_hint")
        if not client_id and hint:
            try:
                kid = jwt.get_unverified_header(hint).get("kid")
                public = keys.published_public_key(conn, str(kid)) if kid else None
                if public is not None:
                    claims = jwt.decode(
                        hint,
                        public,
                        algorithms=["RS256"],
                        options={"verify_aud": False, "verify_exp": False},
                    )
                    client_id = str(claims.get("aud", ""))
            except jwt.PyJWTError:
                client_id = None
        return directory.find_app(conn, client_id) if client_id else None


def _stamp(ts: float) -> str:
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ts))


def is_identity_path(path: str) -> bool:
    """Whether a request path belongs to the emulated Entra ID (``/{tenant}/oauth2/…``,
    ``/{tenant}/v2.0/…``, ``/{tenant}/discovery/…``)."""
    segments = path.strip("/").split("/")
    return len(segments) >= 2 and segments[1].lower() in ("oauth2", "v2.0", "discovery")
