"""Roles follow the tenant during a session: checked again every ENTRA_ROLES_MAX_AGE minutes.

Time moves by patching the sign-in's clock (contoso_images.accounts.clock), never by sleeping;
the tenant is the emulated one over HTTPS, and the session's refresh token is redeemed for
real through MSAL.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from contoso_images.accounts import refusals, sealing
from contoso_images.accounts.refusals import SignInRefused
from contoso_images.arm_emulator.identity import seed as people
from contoso_images.audit.models import AuditEvent
from tests.entra import sign_in

pytestmark = pytest.mark.django_db

MINUTE = 60


@pytest.fixture
def travel(monkeypatch):
    """Move the sign-in's clock forward by so many seconds."""
    offset = [0.0]
    monkeypatch.setattr("contoso_images.accounts.clock.now", lambda: time.time() + offset[0])

    def forward(seconds: float) -> None:
        offset[0] += seconds

    return forward


def _groups(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_a_role_removed_in_the_tenant_stops_working_within_the_max_age(
    client, entra, settings, idp, idp_https, travel
):
    settings.ENTRA_ROLES_MAX_AGE = 15
    sign_in(client, idp_https, people.ADA)
    assert client.get("/audit/").status_code == 200
    idp.set_roles(people.ADA, [])

    travel(14 * MINUTE)  # roles younger than the max age are not asked for again
    assert client.get("/audit/").status_code == 200

    travel(1 * MINUTE)
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Faudit%2F"
    assert "_auth_user_id" not in client.session
    user = get_user_model().objects.get()
    assert _groups(user) == []
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out." in page and "none of the roles of Contoso Images" in page

    ended = AuditEvent.objects.get(action="auth.entra.session_ended")
    assert (ended.outcome, ended.error_code) == ("refused", "no_role")
    assert ended.actor_username == user.get_username()
    change = AuditEvent.objects.filter(action="auth.user.groups_changed").order_by("sequence")
    taken = change.last()
    assert taken.result_data["before"] == ["auditors"] and taken.result_data["after"] == []
    assert taken.parameters_data["by"] == "Entra ID role check"
    assert taken.parameters_data["roles_claimed"] == []
    assert AuditEvent.objects.filter(action="auth.logout").count() == 1


def test_a_changed_role_applies_without_a_new_sign_in(client, entra, idp, idp_https, travel):
    sign_in(client, idp_https, people.ADA)
    idp.set_roles(people.ADA, ["reviewers"])
    travel(16 * MINUTE)
    assert client.get("/audit/").status_code == 403  # auditors no longer
    assert client.get("/catalog/").status_code == 200  # reviewers now
    assert _groups(get_user_model().objects.get()) == ["reviewers"]
    assert client.session["_auth_user_id"]
    # Checked: the next request within the max age asks the tenant nothing.
    log_size = len(idp.log())
    travel(5 * MINUTE)
    client.get("/catalog/")
    assert len(idp.log()) == log_size


def test_a_role_given_by_hand_to_an_entra_user_is_taken_back(client, entra, idp_https, travel):
    from django.contrib.auth.models import Group

    sign_in(client, idp_https, people.RUI)
    user = get_user_model().objects.get()
    user.groups.add(Group.objects.get(name="auditors"))
    travel(16 * MINUTE)
    client.get("/catalog/")
    assert _groups(user) == ["reviewers"]


def test_a_user_removed_from_the_tenant_is_signed_out(client, entra, idp, idp_https, travel):
    sign_in(client, idp_https, people.OLIVIA)
    idp.remove_user(people.OLIVIA)
    travel(16 * MINUTE)
    response = client.get("/notifications/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    ended = AuditEvent.objects.get(action="auth.entra.session_ended")
    assert ended.error_code == "AADSTS50034"
    assert "does not exist" in ended.detail
    assert _groups(get_user_model().objects.get()) == []
    # And cannot sign in again: the tenant no longer offers the account.
    page = idp_https.get(client.get("/auth/microsoft/")["Location"]).text
    assert people.OLIVIA not in page


def test_revoked_sessions_end_here_too(client, entra, idp, idp_https, travel):
    sign_in(client, idp_https, people.OLIVIA)
    idp.revoke_sessions(people.OLIVIA)
    travel(16 * MINUTE)
    assert client.get("/notifications/").status_code == 302
    assert AuditEvent.objects.get(action="auth.entra.session_ended").error_code == "AADSTS50173"


def test_an_htmx_request_is_sent_to_the_sign_in_page_whole(client, entra, idp, idp_https, travel):
    sign_in(client, idp_https, people.OLIVIA)
    idp.set_roles(people.OLIVIA, [])
    travel(16 * MINUTE)
    response = client.get("/notifications/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/")


def test_an_unreachable_tenant_is_given_one_more_period(
    client, entra, idp_https, travel, monkeypatch
):
    sign_in(client, idp_https, people.OLIVIA)

    def unreachable(config, refresh_token):
        raise SignInRefused(refusals.UNREACHABLE, detail="connection refused")

    monkeypatch.setattr("contoso_images.accounts.entra.refresh", unreachable)
    travel(16 * MINUTE)
    assert client.get("/notifications/").status_code == 200  # goes on, on the roles it has
    travel(15 * MINUTE)
    assert client.get("/notifications/").status_code == 302
    ended = AuditEvent.objects.get(action="auth.entra.session_ended")
    assert ended.error_code == "unreachable"


def test_the_refresh_token_is_sealed_in_the_session(client, entra, idp_https, settings):
    sign_in(client, idp_https, people.OLIVIA)
    sealed = client.session["entra"]["rt"]
    assert sealed.startswith("gAAAAA")  # a Fernet token
    raw = sealing.unseal(sealed)
    assert raw and raw not in Session.objects.get().session_data
    assert raw not in str(client.session.items())
    sealing_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another-key-" + "x" * 40
    assert sealing.unseal(sealed) is None  # only this server's key opens it
    settings.SECRET_KEY_FALLBACKS = [sealing_key]
    assert sealing.unseal(sealed) == raw  # a rotated key still opens what it sealed


def test_a_session_whose_token_no_key_opens_signs_in_again(client, entra, idp_https, travel):
    sign_in(client, idp_https, people.OLIVIA)
    session = client.session
    session["entra"]["rt"] = "garbage"
    session.save()
    travel(16 * MINUTE)
    assert client.get("/notifications/").status_code == 302
    assert (
        AuditEvent.objects.get(action="auth.entra.session_ended").error_code == "no_refresh_token"
    )
