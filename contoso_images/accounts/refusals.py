"""Why a sign-in through Entra ID was refused: a code for the record, a sentence for the person.

Every refusal is recorded (``auth.entra.refused``, or ``auth.entra.session_ended`` when a
signed-in session is ended by the role check) with its reason as the error code, and the
person sees the sentence on a page of the dashboard, never a 403 trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WRONG_TENANT = "wrong_tenant"
BAD_SIGNATURE = "bad_signature"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
REPLAYED_NONCE = "replayed_nonce"
WRONG_AUDIENCE = "wrong_audience"
WRONG_ISSUER = "wrong_issuer"
MALFORMED = "malformed_token"
NO_ROLE = "no_role"
GROUPS_OVERAGE = "groups_overage"
UNKNOWN_STATE = "unknown_state"
TENANT_ERROR = "tenant_error"
UNREACHABLE = "unreachable"
DISABLED = "disabled"
IDENTITY_CHANGED = "identity_changed"
NO_REFRESH = "no_refresh_token"

#: Refusals made before the signature was verified: the token's claims prove nothing.
UNVERIFIED = frozenset({BAD_SIGNATURE, MALFORMED})

AGAIN = "Start again from the sign-in page."
TELL_ADMIN = "If it happens again, tell your administrator."

SENTENCES = {
    WRONG_TENANT: (
        "You signed in with an account of another organisation (tenant {tid}). Contoso "
        "Images accepts the accounts of {tenant} only: sign in with your work account there."
    ),
    BAD_SIGNATURE: (
        "The sign-in answer was not signed with a key Microsoft Entra ID publishes, so it "
        f"was refused. {AGAIN} {TELL_ADMIN}"
    ),
    EXPIRED: (
        "The sign-in answer had expired before it reached Contoso Images (it is valid for a "
        f"short time only). {AGAIN} {TELL_ADMIN} (the server's clock may be wrong)"
    ),
    NOT_YET_VALID: (
        f"The sign-in answer is not valid yet: this server's clock is behind. {AGAIN} {TELL_ADMIN}"
    ),
    REPLAYED_NONCE: (
        "The sign-in answer belongs to another sign-in than the one this browser started "
        f"(its nonce does not match): it may have been replayed. {AGAIN}"
    ),
    WRONG_AUDIENCE: (
        "The sign-in answer was issued for another application, not for Contoso Images. "
        f"{AGAIN} {TELL_ADMIN}"
    ),
    WRONG_ISSUER: (
        "The sign-in answer did not come from the Microsoft Entra ID tenant this dashboard "
        f"trusts. {AGAIN} {TELL_ADMIN}"
    ),
    MALFORMED: f"The sign-in answer could not be read. {AGAIN} {TELL_ADMIN}",
    NO_ROLE: (
        "You signed in as {name} ({upn}), but your account holds none of the roles of "
        "Contoso Images."
    ),
    GROUPS_OVERAGE: (
        "You are a member of more groups than a sign-in token can carry (over 200), so "
        "Contoso Images cannot see whether you are in the groups that give its roles. Ask "
        "your administrator to assign you an app role of Contoso Images instead, or to "
        "limit the groups claim to the groups assigned to the application."
    ),
    UNKNOWN_STATE: (
        "This sign-in link was already used, has expired, or was started in another "
        f"browser. {AGAIN}"
    ),
    TENANT_ERROR: "Microsoft Entra ID did not sign you in: {error}",
    UNREACHABLE: (
        "Microsoft Entra ID could not be reached to sign you in. Try again in a moment. "
        f"{TELL_ADMIN}"
    ),
    DISABLED: ("Your account is disabled in Contoso Images. Ask your administrator to enable it."),
    IDENTITY_CHANGED: (
        f"Microsoft Entra ID answered for another person than the one signed in here. {AGAIN}"
    ),
    NO_REFRESH: "Your session needs a new sign-in to check your roles. Sign in again.",
}


class SignInRefused(Exception):
    """A sign-in (or a session's role check) refused, with what the record keeps."""

    def __init__(
        self,
        reason: str,
        *,
        detail: str = "",
        claims: Mapping[str, Any] | None = None,
        error_code: str = "",
        **words: str,
    ) -> None:
        self.reason = reason
        #: What an administrator reading the record needs beyond the sentence.
        self.detail = detail
        #: The token's claims when they were readable (the record keeps tid, oid, roles).
        self.claims: dict[str, Any] = dict(claims or {})
        #: Entra ID's own code (AADSTS…) when it refused, else the reason.
        self.error_code = error_code or reason
        self.words = words
        super().__init__(self.sentence)

    @property
    def sentence(self) -> str:
        template = SENTENCES.get(self.reason, f"Sign-in refused. {AGAIN}")
        values = {"tid": "?", "tenant": "?", "name": "?", "upn": "?", "error": "?"}
        values.update(self.words)
        return template.format(**values)
