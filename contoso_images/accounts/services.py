"""The sign-in journey with Entra ID, the session's role check, sign-out, and their record.

1. :func:`begin`: MSAL makes a flow (PKCE verifier, ``state``, ``nonce``); it is kept in the
   session under its ``state`` (several tabs may sign in at once; each flow lives
   :data:`FLOW_SECONDS` and is used once), and the browser goes to the tenant's authorize
   endpoint.
2. :func:`complete` at ``/auth/callback/``: the flow is taken out of the session (a second
   use of the same answer finds nothing), MSAL redeems the code, tokens.py checks the ID
   token, roles.py maps the claims onto role groups; the user keyed on ``tid`` + ``oid`` is
   found or made, names refreshed, role groups set, and Django's session opened. A person
   with no mapped role is refused and loses any role group they held.
3. :func:`recheck` (the middleware, every ``ENTRA_ROLES_MAX_AGE`` minutes): the sealed
   refresh token is redeemed, the new ID token checked the same way (same person), the
   roles applied again; if the tenant refuses (user deleted, sessions revoked, role gone)
   the session ends and the role groups are taken away.
4. :func:`tenant_sign_out_url`: after the dashboard's own sign-out, the tenant's
   ``end_session_endpoint`` is offered.

Everything is on the audit record: the sign-in (``auth.login`` with ``tid``, ``oid``, the
roles claimed and granted), each refusal (``auth.entra.refused``), a session ended by the
role check (``auth.entra.session_ended``), and every role group given or taken (with
before and after, by audit/access_changes.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model, login
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from contoso_images.accounts import clock, config, entra, provider, refusals, roles, sealing
from contoso_images.accounts import tokens as id_tokens
from contoso_images.accounts.config import EntraConfig
from contoso_images.accounts.models import EntraIdentity
from contoso_images.accounts.refusals import SignInRefused
from contoso_images.audit.context import acting
from contoso_images.audit.receivers import LOGIN_DETAILS_ATTRIBUTE
from contoso_images.audit.services import Outcome, Subject, record

logger = logging.getLogger(__name__)

ENTRA_BACKEND = "contoso_images.accounts.backends.EntraBackend"
FLOWS_KEY = "entra_flows"
SESSION_KEY = "entra"
FLOW_SECONDS = 15 * 60
MAX_FLOWS = 5
SIGN_IN_VIA = "Entra ID sign-in"
CHECK_VIA = "Entra ID role check"


def configuration() -> EntraConfig:
    found = config.entra()
    if found is None:
        raise SignInRefused(
            refusals.UNREACHABLE, detail="Entra ID sign-in is not configured (ENTRA_*)."
        )
    return found


def redirect_uri(request: HttpRequest, cfg: EntraConfig) -> str:
    """The callback address registered for the app (``ENTRA_REDIRECT_URI``, else this site's
    ``/auth/callback/``): Entra ID compares it exactly, trailing slash included."""
    return cfg.redirect_uri or request.build_absolute_uri(reverse("accounts:callback"))


def _live_flows(request: HttpRequest) -> dict[str, Any]:
    flows = request.session.get(FLOWS_KEY)
    if not isinstance(flows, dict):
        return {}
    horizon = clock.now() - FLOW_SECONDS
    return {
        state: entry
        for state, entry in flows.items()
        if isinstance(entry, dict) and float(entry.get("started", 0)) > horizon
    }


def begin(request: HttpRequest, next_url: str, *, prompt: str | None = None) -> str:
    """Start a sign-in; returns the tenant's authorize URL to send the browser to."""
    cfg = configuration()
    flow = entra.start(cfg, redirect_uri(request, cfg), prompt=prompt)
    flows = _live_flows(request)
    flows[flow["state"]] = {"flow": flow, "next": next_url, "started": clock.now()}
    newest = sorted(flows.items(), key=lambda item: item[1]["started"])[-MAX_FLOWS:]
    request.session[FLOWS_KEY] = dict(newest)
    return str(flow["auth_uri"])


@dataclass(frozen=True)
class SignedIn:
    user: User
    next_url: str


def complete(request: HttpRequest) -> SignedIn:
    """Finish the sign-in the callback's query answers, or raise :class:`SignInRefused`."""
    cfg = configuration()
    answer = request.GET.dict()
    flows = _live_flows(request)
    entry = flows.pop(answer.get("state", ""), None)
    request.session[FLOWS_KEY] = flows  # used once, whatever comes of it
    if entry is None:
        raise SignInRefused(
            refusals.UNKNOWN_STATE,
            detail="No sign-in of this browser has this state (replayed, expired or forged).",
        )
    if "error" in answer:
        description = answer.get("error_description") or answer["error"]
        code = description.split(":", 1)[0] if description.startswith("AADSTS") else ""
        raise SignInRefused(
            refusals.TENANT_ERROR,
            detail=description,
            error_code=code or answer["error"],
            error=description.splitlines()[0],
        )
    flow = entry["flow"]
    result = entra.redeem(cfg, flow, answer)
    claims = id_tokens.validate_id_token(
        result["id_token"],
        cfg,
        now=clock.now(),
        expected_nonce_hash=id_tokens.nonce_hash(str(flow.get("nonce", ""))),
    )
    decision = roles.decide(claims, cfg)
    fields = _identity_fields(claims)
    refusal: SignInRefused | None = None
    with transaction.atomic():
        identity = _identity(claims)
        if identity is None and not decision.granted:
            refusal = _no_role(claims, decision)
        else:
            user = _upsert_user(identity, claims, decision, SIGN_IN_VIA)
            if not user.is_active:
                refusal = SignInRefused(refusals.DISABLED, claims=claims)
            else:
                roles.apply(user, decision.granted, via=SIGN_IN_VIA, **decision.record_fields())
                if not decision.granted:
                    refusal = _no_role(claims, decision)
                else:
                    setattr(
                        request,
                        LOGIN_DETAILS_ATTRIBUTE,
                        {
                            "parameters": {
                                "method": "entra_id",
                                **fields,
                                **decision.record_fields(),
                            },
                            "detail": (
                                f"Signed in with Microsoft Entra ID as {fields['name']} "
                                f"({fields['upn']}); role groups granted: "
                                f"{', '.join(decision.granted)}."
                            ),
                        },
                    )
                    login(request, user, backend=ENTRA_BACKEND)
                    request.session[SESSION_KEY] = _session_state(cfg, claims, result)
    if refusal is not None:
        raise refusal
    return SignedIn(user, str(entry.get("next") or ""))


def _identity_fields(claims: dict[str, Any]) -> dict[str, Any]:
    upn = str(claims.get("preferred_username") or claims.get("upn") or claims.get("email") or "")
    fields = {
        "tid": str(claims.get("tid", "")).lower(),
        "oid": str(claims.get("oid", "")).lower(),
        "upn": upn or str(claims.get("oid", "")),
        "name": str(claims.get("name") or upn or claims.get("oid", "")),
    }
    if claims.get("idp"):
        fields["idp"] = str(claims["idp"])
    return fields


def _identity(claims: dict[str, Any]) -> EntraIdentity | None:
    return (
        EntraIdentity.objects.select_related("user")
        .select_for_update()
        .filter(tenant_id=str(claims["tid"]).lower(), object_id=str(claims["oid"]).lower())
        .first()
    )


def _no_role(claims: dict[str, Any], decision: roles.RoleDecision) -> SignInRefused:
    fields = _identity_fields(claims)
    return SignInRefused(
        refusals.NO_ROLE,
        detail=(
            f"Roles claimed: {list(decision.roles_claimed) or 'none'}; "
            f"{decision.groups_claimed} group(s) claimed; none is mapped by ENTRA_ROLE_MAP."
        ),
        claims=claims,
        name=fields["name"],
        upn=fields["upn"],
    )


def _free_username(upn: str, oid: str, user_pk: Any) -> str:
    """The UPN as username (what people recognise), unless another user holds it: a UPN
    can be reassigned to someone else, who then gets the UPN with their ``oid``'s start."""
    model = get_user_model()
    wanted = upn.lower()[:150]
    taken = model._default_manager.filter(username=wanted).exclude(pk=user_pk).exists()
    return f"{upn.lower()[:140]}~{oid[:8]}" if taken else wanted


def _upsert_user(
    identity: EntraIdentity | None,
    claims: dict[str, Any],
    decision: roles.RoleDecision,
    via: str,
) -> Any:
    fields = _identity_fields(claims)
    now = timezone.now()
    if identity is None:
        identity = _create(fields, via)
        user = identity.user
    else:
        user = identity.user
        changes = {
            "username": _free_username(fields["upn"], fields["oid"], user.pk)
            if user.get_username() != fields["upn"].lower()[:150]
            else user.get_username(),
            "first_name": fields["name"][:150],
        }
        changed = [name for name, value in changes.items() if getattr(user, name) != value]
        if changed:
            for name in changed:
                setattr(user, name, changes[name])
            with acting(user, via, tid=fields["tid"], oid=fields["oid"]):
                user.save(update_fields=changed)
    identity.upn = fields["upn"][:300]
    identity.display_name = fields["name"][:300]
    identity.identity_provider = fields.get("idp", "")[:300]
    identity.roles_claimed = list(decision.roles_claimed)
    identity.roles_granted = list(decision.granted)
    identity.last_checked_at = now
    if via == SIGN_IN_VIA:
        identity.last_sign_in_at = now
    identity.save()
    return user


def _create(fields: dict[str, Any], via: str) -> EntraIdentity:
    """A new user for a person signing in for the first time. The same person's first sign-in
    in two tabs at once makes one user: the second meets the unique (tid, oid) key, and its
    savepoint (its user and their record) is rolled back in favour of the first's."""
    try:
        with transaction.atomic():
            user = get_user_model()(
                username=_free_username(fields["upn"], fields["oid"], None),
                first_name=fields["name"][:150],
            )
            user.set_unusable_password()
            with acting(user, via, tid=fields["tid"], oid=fields["oid"]):
                user.save()
            return EntraIdentity.objects.create(
                user=user, tenant_id=fields["tid"], object_id=fields["oid"]
            )
    except IntegrityError:
        existing = _identity({"tid": fields["tid"], "oid": fields["oid"]})
        if existing is None:
            raise
        return existing


def _session_state(
    cfg: EntraConfig, claims: dict[str, Any], result: dict[str, Any]
) -> dict[str, Any]:
    refresh = str(result.get("refresh_token") or "")
    try:
        end_session = provider.metadata(cfg).end_session_endpoint
    except provider.ProviderUnavailable:
        end_session = ""
    return {
        "tid": str(claims["tid"]).lower(),
        "oid": str(claims["oid"]).lower(),
        "checked_at": clock.now(),
        "rt": sealing.seal(refresh) if refresh else "",
        "end_session": end_session,
    }


# --- The session's role check ----------------------------------------------------------------


def check_due(request: HttpRequest) -> bool:
    state = request.session.get(SESSION_KEY)
    user = getattr(request, "user", None)
    if not isinstance(state, dict) or user is None or not user.is_authenticated:
        return False
    cfg = config.entra()
    max_age = cfg.roles_max_age_seconds if cfg else 0
    return clock.now() - float(state.get("checked_at", 0)) >= max_age


def recheck(request: HttpRequest) -> None:
    """Ask the tenant for the signed-in person's roles again and apply them, or raise
    :class:`SignInRefused` (the caller ends the session)."""
    state = dict(request.session.get(SESSION_KEY) or {})
    cfg = configuration()
    refresh_token = sealing.unseal(str(state.get("rt") or ""))
    if not refresh_token:
        raise SignInRefused(refusals.NO_REFRESH, detail="No usable refresh token in the session.")
    result = entra.refresh(cfg, refresh_token)
    expected = (str(state.get("tid", "")), str(state.get("oid", "")))
    claims = id_tokens.validate_id_token(
        result["id_token"],
        cfg,
        now=clock.now(),
        expected_nonce_hash=None,
        expected_identity=expected,
    )
    decision = roles.decide(claims, cfg)
    user = request.user
    with transaction.atomic():
        identity = _identity(claims)
        if identity is None or identity.user_id != user.pk:
            raise SignInRefused(
                refusals.IDENTITY_CHANGED, detail="The session's identity is gone.", claims=claims
            )
        _upsert_user(identity, claims, decision, CHECK_VIA)
        roles.apply(user, decision.granted, via=CHECK_VIA, **decision.record_fields())
    if not decision.granted:
        raise _no_role(claims, decision)
    state["checked_at"] = clock.now()
    new_refresh = result.get("refresh_token")
    if new_refresh:
        state["rt"] = sealing.seal(str(new_refresh))
    request.session[SESSION_KEY] = state


def within_grace(request: HttpRequest) -> bool:
    """Whether a session whose check could not reach the tenant may go on a while: up to
    twice ``ENTRA_ROLES_MAX_AGE`` after its last successful check."""
    state = request.session.get(SESSION_KEY) or {}
    cfg = config.entra()
    if cfg is None or not isinstance(state, dict):
        return False
    return clock.now() - float(state.get("checked_at", 0)) < 2 * cfg.roles_max_age_seconds


def strip_roles(user: User, refused: SignInRefused) -> None:
    """Take away the role groups of a person the tenant no longer vouches for."""
    roles.apply(user, (), via=CHECK_VIA, reason=refused.reason)


# --- Sign-out ----------------------------------------------------------------------------------


def tenant_sign_out_url(request: HttpRequest) -> str | None:
    """The tenant's ``end_session_endpoint`` for an Entra ID session (None otherwise),
    coming back to this site's home page."""
    state = request.session.get(SESSION_KEY)
    cfg = config.entra()
    if not isinstance(state, dict) or cfg is None or not state.get("end_session"):
        return None
    parts = urlsplit(redirect_uri(request, cfg))
    return entra.sign_out_url(
        str(state["end_session"]), cfg.client_id, f"{parts.scheme}://{parts.netloc}/"
    )


# --- The record ------------------------------------------------------------------------------


def record_refusal(
    request: HttpRequest, refused: SignInRefused, *, action: str = "auth.entra.refused"
) -> None:
    """One refused event: why (the reason as error code, the sentence and the detail), and
    whose token it was as far as it could be read."""
    claims = refused.claims
    tid = str(claims.get("tid", "")).lower()
    oid = str(claims.get("oid", "")).lower()
    upn = str(claims.get("preferred_username") or "")
    # A token whose signature failed says whatever its maker wanted: its claims are written
    # down as claimed, and never attributed to the user they name.
    verified = refused.reason not in refusals.UNVERIFIED
    identity = (
        EntraIdentity.objects.filter(tenant_id=tid, object_id=oid).select_related("user").first()
        if tid and oid and verified
        else None
    )
    target = Subject(
        kind="user",
        id=f"user:{identity.user.pk}" if identity else "",
        name=identity.user.get_username() if identity else (upn or oid),
    )
    parameters: dict[str, Any] = {"reason": refused.reason, "method": "entra_id"}
    if tid:
        parameters["tid"] = tid
    if oid:
        parameters["oid"] = oid
    if upn:
        parameters["upn"] = upn
    if "roles" in claims:
        parameters["roles_claimed"] = claims.get("roles")
    if claims and not verified:
        parameters["claims_verified"] = False
    record(
        action=action,
        actor=identity.user if identity and action != "auth.entra.refused" else None,
        target=target,
        outcome=Outcome.REFUSED,
        parameters=parameters,
        detail=f"{refused.sentence} {refused.detail}".strip(),
        error_code=refused.error_code,
        request=request,
    )
