"""Tokens that must be refused at the callback, each with a sentence and an audit event.

The tenant only issues good tokens, so each test starts a real sign-in (MSAL's flow, kept
in the session), then hands the callback a token the test made: signed by the emulated
tenant's published key exactly as its token endpoint would, with one thing changed. The
same token unchanged is accepted (the first test), so each refusal is caused by that one
change. The validation runs against the emulator's real discovery document and JWKS over
HTTPS.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth import get_user_model

from contoso_images.accounts import clock
from contoso_images.arm_emulator.identity import crafted, keys
from contoso_images.arm_emulator.identity import seed as people
from contoso_images.audit.models import AuditEvent
from tests.entra import TENANT, authorize_url, callback_path, pick_account

pytestmark = pytest.mark.django_db


def _start(client) -> tuple[str, str]:
    """A sign-in begun: (state, the nonce the ID token must echo)."""
    query = parse_qs(urlsplit(authorize_url(client)).query)
    return query["state"][0], query["nonce"][0]


@pytest.fixture
def answer(client, entra, idp, monkeypatch):
    """Hand the callback a token: the token endpoint's answer is replaced by ``token``."""

    def hand(token: str, state: str):
        monkeypatch.setattr(
            "contoso_images.accounts.entra.redeem",
            lambda config, flow, response: {"id_token": token, "refresh_token": "rt"},
        )
        return client.get(f"/auth/callback/?code=made-up&state={state}")

    return hand


def _token(idp, entra, oid=people.OLIVIA, *, nonce, foreign_key=False, **changes) -> str:
    return crafted.id_token(
        idp, base=entra.base_url, oid=oid, nonce=nonce, foreign_key=foreign_key, **changes
    )


def _refused(client, response, reason: str, words: str) -> AuditEvent:
    assert response.status_code == 403
    page = response.content.decode()
    assert "Sign-in refused" in page or "No access yet" in page
    assert words in page
    assert "Traceback" not in page
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.exists()
    event = AuditEvent.objects.get(action="auth.entra.refused")
    assert (event.outcome, event.error_code) == ("refused", reason)
    assert words in event.detail
    return event


def test_the_made_token_unchanged_is_accepted(client, entra, idp, answer):
    state, nonce = _start(client)
    response = answer(_token(idp, entra, nonce=nonce), state)
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
    assert AuditEvent.objects.filter(action="auth.login").count() == 1


def test_a_token_from_another_tenant(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, oid=people.FELIX, nonce=nonce)  # tid and iss: Fabrikam
    event = _refused(client, answer(token, state), "wrong_tenant", "another organisation")
    assert event.parameters_data["tid"] == people.FABRIKAM_TENANT_ID
    assert event.parameters_data["oid"] == people.FELIX


def test_a_token_of_another_tenant_claiming_this_issuer(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, nonce=nonce, tid=people.FABRIKAM_TENANT_ID)
    _refused(client, answer(token, state), "wrong_tenant", "another organisation")


def test_a_bad_signature(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, nonce=nonce, foreign_key=True)  # the current kid, another key
    event = _refused(client, answer(token, state), "bad_signature", "not signed with a key")
    assert "does not verify" in event.detail
    # Whose it claimed to be, marked as a claim: never attributed to Olivia's account.
    assert event.parameters_data["oid"] == people.OLIVIA
    assert event.parameters_data["claims_verified"] is False


def test_a_forged_token_naming_a_known_user_is_not_put_on_their_account(client, entra, idp, answer):
    state, nonce = _start(client)
    answer(_token(idp, entra, nonce=nonce), state)  # Olivia signs in once: a known user
    client.post("/logout/")
    state, nonce = _start(client)
    answer(_token(idp, entra, nonce=nonce, foreign_key=True), state)
    event = AuditEvent.objects.get(action="auth.entra.refused")
    assert event.target_id == "" and event.actor_username == ""


def test_a_signature_with_a_key_never_published(client, entra, idp, answer):
    state, nonce = _start(client)
    claims = crafted.id_token_claims(idp, base=entra.base_url, oid=people.OLIVIA, nonce=nonce)
    token = keys.sign_with_foreign_key(claims, "no-such-kid")
    event = _refused(client, answer(token, state), "bad_signature", "not signed with a key")
    assert "not among the tenant's published signing keys" in event.detail


def test_a_token_signed_with_hmac_or_none(client, entra, idp, answer):
    state, nonce = _start(client)
    claims = crafted.id_token_claims(idp, base=entra.base_url, oid=people.OLIVIA, nonce=nonce)
    kid = idp.signing_keys()[0].kid
    forged = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": kid})
    _refused(client, answer(forged, state), "bad_signature", "not signed with a key")


def test_an_expired_token(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, nonce=nonce, issued_at=time.time() - 7200, lifetime=3600)
    _refused(client, answer(token, state), "expired", "had expired")


def test_a_token_just_inside_the_clock_skew_is_accepted(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, nonce=nonce, issued_at=time.time() - 3660, lifetime=3600)
    assert answer(token, state).status_code == 302


def test_a_replayed_nonce(client, entra, idp, answer):
    """A token from an earlier sign-in (its nonce) presented to a new one."""
    _earlier_state, earlier_nonce = _start(client)
    state, _nonce = _start(client)
    token = _token(idp, entra, nonce=earlier_nonce)
    _refused(client, answer(token, state), "replayed_nonce", "nonce does not match")


def test_a_token_without_a_nonce(client, entra, idp, answer):
    state, _nonce = _start(client)
    _refused(client, answer(_token(idp, entra, nonce=None), state), "replayed_nonce", "nonce")


def test_a_wrong_audience(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, nonce=nonce, aud=people.GATEWAY_CLIENT_ID)
    event = _refused(client, answer(token, state), "wrong_audience", "another application")
    assert people.GATEWAY_CLIENT_ID in event.detail


def test_a_wrong_issuer(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, nonce=nonce, iss=f"https://login.microsoftonline.com/{TENANT}/v2.0")
    _refused(client, answer(token, state), "wrong_issuer", "did not come from")


def test_a_missing_role(client, entra, idp, answer):
    state, nonce = _start(client)
    token = _token(idp, entra, oid=people.NICO, nonce=nonce)
    response = answer(token, state)
    event = _refused(client, response, "no_role", "none of the roles")
    assert "App role <code>operators</code>" in response.content.decode()
    assert event.parameters_data["oid"] == people.NICO


def test_an_unreadable_token(client, entra, answer):
    state, _nonce = _start(client)
    _refused(client, answer("not-a-token", state), "malformed_token", "could not be read")


def test_msal_refuses_a_nonce_that_is_not_the_flows(client, entra, idp_https):
    """Through the real token endpoint: the flow in the session is changed so the nonce
    MSAL expects is not the one the tenant echoes; MSAL's own check refuses it."""
    url = authorize_url(client)
    state = parse_qs(urlsplit(url).query)["state"][0]
    session = client.session
    session["entra_flows"][state]["flow"]["nonce"] = "another-nonce"
    session.save()
    back = pick_account(idp_https, url, people.OLIVIA)
    _refused(client, client.get(callback_path(back)), "replayed_nonce", "nonce does not match")


def test_an_expired_token_through_the_real_flow(client, entra, idp_https, monkeypatch):
    """Time travel: the tenant's real token, judged two hours later than it was issued."""
    real = clock.now
    monkeypatch.setattr("contoso_images.accounts.clock.now", lambda: real() + 7200)
    back = pick_account(idp_https, authorize_url(client), people.OLIVIA)
    _refused(client, client.get(callback_path(back)), "expired", "had expired")
