"""The sign-in journey through the emulated tenant (HTTPS, real MSAL, real RS256 tokens),
with Django's test client as the browser on the dashboard's side."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from contoso_images.accounts.models import EntraIdentity
from contoso_images.arm_emulator.identity import MULTI_TENANT
from contoso_images.arm_emulator.identity import seed as people
from contoso_images.audit.models import AuditEvent
from tests.entra import TENANT, authorize_url, callback_path, pick_account, sign_in

pytestmark = pytest.mark.django_db

User = get_user_model()


def _groups(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_the_authorization_request_carries_pkce_state_and_nonce(client, entra):
    url = authorize_url(client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{entra.base_url}/{TENANT}/oauth2/v2.0/authorize?")
    assert query["client_id"] == people.DASHBOARD_CLIENT_ID
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"]
    assert set(query["scope"].split()) == {"openid", "profile", "offline_access"}
    assert query["redirect_uri"] == people.DASHBOARD_REDIRECT_URIS[0]
    assert "response_mode" not in query  # query: the callback is a GET (SameSite=Lax)


@pytest.mark.parametrize(
    ("oid", "groups", "home"),
    [
        (people.OLIVIA, ["operators"], "/vms/"),
        (people.RUI, ["reviewers"], "/catalog/"),
        (people.ADA, ["auditors"], "/audit/"),
        (people.MORGAN, ["operators", "reviewers"], "/vms/"),
    ],
)
def test_each_role_signs_in_with_the_roles_of_the_tenant(
    client, entra, idp_https, oid, groups, home
):
    response = sign_in(client, idp_https, oid)
    assert response.status_code == 302 and response["Location"] == "/"
    identity = EntraIdentity.objects.select_related("user").get()
    assert (identity.tenant_id, identity.object_id) == (TENANT, oid)
    user = identity.user
    assert _groups(user) == groups
    assert not user.has_usable_password()  # an Entra ID user has no local password
    assert user.get_username() == identity.upn
    assert client.get("/")["Location"] == home
    login = AuditEvent.objects.get(action="auth.login")
    params = login.parameters_data
    assert params["method"] == "entra_id"
    assert (params["tid"], params["oid"]) == (TENANT, oid)
    assert params["roles_claimed"] == groups  # the seeded app roles are named like the groups
    assert params["roles_granted"] == groups
    assert login.actor_username == user.get_username()
    granted = AuditEvent.objects.get(action="auth.user.groups_changed")
    assert granted.result_data["before"] == [] and granted.result_data["after"] == groups
    assert granted.parameters_data["by"] == "Entra ID sign-in"
    assert granted.actor_username == user.get_username()


def test_the_username_is_the_upn_and_the_name_the_display_name(client, entra, idp_https):
    sign_in(client, idp_https, people.OLIVIA)
    user = User.objects.get()
    assert user.get_username() == f"olivia@{people.CONTOSO_DOMAIN}"
    assert user.get_full_name() == "Olivia Operator"
    page = client.get("/notifications/").content.decode()
    assert f"Signed in as <strong>olivia@{people.CONTOSO_DOMAIN}</strong>" in page


def test_after_sign_in_the_person_goes_where_they_were_going(client, entra, idp_https):
    response = sign_in(client, idp_https, people.RUI, next_url="/catalog/?kind=gallery")
    assert response["Location"] == "/catalog/?kind=gallery"


def test_a_foreign_next_address_is_ignored(client, entra, idp_https):
    response = sign_in(client, idp_https, people.RUI, next_url="https://evil.example/")
    assert response["Location"] == "/"


def test_a_user_renamed_in_the_tenant_stays_the_same_user(client, entra, idp, idp_https):
    sign_in(client, idp_https, people.OLIVIA)
    first = User.objects.get()
    client.post("/logout/")
    idp.rename_user(
        people.OLIVIA, display_name="Olivia Married", upn=f"olivia.m@{people.CONTOSO_DOMAIN}"
    )
    sign_in(client, idp_https, people.OLIVIA)
    again = User.objects.get()  # still one user
    assert again.pk == first.pk
    assert again.get_username() == f"olivia.m@{people.CONTOSO_DOMAIN}"
    assert again.get_full_name() == "Olivia Married"
    assert EntraIdentity.objects.get().upn == f"olivia.m@{people.CONTOSO_DOMAIN}"
    assert _groups(again) == ["operators"]
    renamed = AuditEvent.objects.get(action="auth.user.changed")
    assert renamed.result_data["before"]["username"] == f"olivia@{people.CONTOSO_DOMAIN}"
    assert renamed.result_data["after"]["username"] == f"olivia.m@{people.CONTOSO_DOMAIN}"


def test_a_upn_given_to_someone_else_does_not_open_the_old_account(client, entra, idp, idp_https):
    """Users are keyed on tid + oid: a new person with a reassigned UPN is a new user."""
    sign_in(client, idp_https, people.OLIVIA)
    olivia = User.objects.get()
    client.post("/logout/")
    upn = f"olivia@{people.CONTOSO_DOMAIN}"
    idp.rename_user(people.OLIVIA, upn=f"olivia.old@{people.CONTOSO_DOMAIN}")
    newcomer = idp.add_user("Olivia Newcomer", upn, roles=["auditors"])
    sign_in(client, idp_https, newcomer.oid)
    other = User.objects.exclude(pk=olivia.pk).get()
    assert other.get_username() == f"{upn}~{newcomer.oid[:8]}"
    assert _groups(other) == ["auditors"] and _groups(olivia) == ["operators"]
    assert EntraIdentity.objects.count() == 2


def test_a_guest_signs_in_through_the_tenant_with_their_guest_object(client, entra, idp_https):
    sign_in(client, idp_https, people.GRACE_GUEST)
    identity = EntraIdentity.objects.get()
    assert (identity.tenant_id, identity.object_id) == (TENANT, people.GRACE_GUEST)
    assert identity.identity_provider.endswith(f"{people.FABRIKAM_TENANT_ID}/")
    assert _groups(identity.user) == ["reviewers"]


def test_groups_from_the_groups_claim_give_roles(client, entra, settings, idp_https):
    settings.ENTRA_ROLE_MAP = {people.GROUP_SECURITY_AUDIT.upper(): "auditors"}
    sign_in(client, idp_https, people.ADA)
    user = User.objects.get()
    assert _groups(user) == ["auditors"]
    login = AuditEvent.objects.get(action="auth.login").parameters_data
    assert login["granted_by"] == {"auditors": [people.GROUP_SECURITY_AUDIT]}
    assert login["roles_claimed"] == ["auditors"] and login["groups_claimed"] == 1


def test_the_groups_overage_is_ignored_when_roles_come_from_app_roles(client, entra, idp_https):
    sign_in(client, idp_https, people.GUS)
    user = User.objects.get()
    assert _groups(user) == ["reviewers"]
    assert AuditEvent.objects.get(action="auth.login").parameters_data["groups_overage"] is True


def test_the_groups_overage_is_refused_when_roles_come_from_groups(
    client, entra, settings, idp_https
):
    settings.ENTRA_ROLE_MAP = {"reviewers": "reviewers", people.GROUP_IMAGE_BOARD: "reviewers"}
    response = sign_in(client, idp_https, people.GUS)
    assert response.status_code == 403
    page = response.content.decode()
    assert "more groups than a sign-in token can carry" in page
    assert "app role of Contoso Images" in page
    refused = AuditEvent.objects.get(action="auth.entra.refused")
    assert refused.error_code == "groups_overage" and refused.outcome == "refused"
    assert not User.objects.exists() and "_auth_user_id" not in client.session


def test_a_person_with_no_role_is_told_what_to_ask_for(client, entra, idp_https):
    response = sign_in(client, idp_https, people.NICO)
    assert response.status_code == 403
    page = response.content.decode()
    assert "No access yet" in page
    assert "Nico Newcomer" in page and "none of the roles of Contoso Images" in page
    for role in ("Operators", "Reviewers", "Auditors"):
        assert f"<strong>{role}</strong>" in page
    assert "App role <code>operators</code>" in page
    assert "Traceback" not in page
    refused = AuditEvent.objects.get(action="auth.entra.refused")
    assert refused.error_code == "no_role"
    assert refused.parameters_data["oid"] == people.NICO
    assert "none of the roles" in refused.detail
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session
    # The 403 is recorded once, as the sign-in refusal, not again as "access.denied".
    assert not AuditEvent.objects.filter(action="access.denied").exists()


def test_a_person_whose_roles_were_all_removed_loses_their_groups_at_sign_in(
    client, entra, idp, idp_https
):
    sign_in(client, idp_https, people.RUI)
    client.post("/logout/")
    idp.set_roles(people.RUI, [])
    response = sign_in(client, idp_https, people.RUI)
    assert response.status_code == 403
    user = User.objects.get()
    assert _groups(user) == []
    removed = (
        AuditEvent.objects.filter(action="auth.user.groups_changed").order_by("sequence").last()
    )
    assert removed.result_data == {
        "before": ["reviewers"],
        "after": [],
        "added": [],
        "removed": ["reviewers"],
    }


def test_a_member_of_another_tenant_is_refused_at_a_multi_tenant_authority(
    client, entra, settings, idp, idp_https
):
    """The app registration is multi-tenant and the dashboard uses `organizations`, limited to
    Contoso by ENTRA_ALLOWED_TENANTS: Felix (Fabrikam) gets a real token, which is refused."""
    idp.set_sign_in_audience(people.DASHBOARD_CLIENT_ID, MULTI_TENANT)
    settings.ENTRA_TENANT_ID = "organizations"
    settings.ENTRA_ALLOWED_TENANTS = [TENANT]
    response = sign_in(client, idp_https, people.FELIX)
    assert response.status_code == 403
    assert "account of another organisation" in response.content.decode()
    refused = AuditEvent.objects.get(action="auth.entra.refused")
    assert refused.error_code == "wrong_tenant"
    assert refused.parameters_data["tid"] == people.FABRIKAM_TENANT_ID
    # Olivia, of the allowed tenant, signs in at the same authority.
    assert sign_in(client, idp_https, people.OLIVIA).status_code == 302


def test_multi_tenant_without_allowed_tenants_is_not_configured(client, entra, settings):
    settings.ENTRA_TENANT_ID = "common"
    assert client.get("/auth/microsoft/").status_code == 404
    assert "Sign in with Microsoft" not in client.get("/login/").content.decode()


def test_the_same_answer_used_twice_is_refused(client, entra, idp_https):
    back = pick_account(idp_https, authorize_url(client), people.OLIVIA)
    assert client.get(callback_path(back)).status_code == 302
    client.post("/logout/")
    replay = client.get(callback_path(back))
    assert replay.status_code == 403
    assert "already used" in replay.content.decode()
    assert AuditEvent.objects.get(action="auth.entra.refused").error_code == "unknown_state"


def test_declining_at_the_tenant_is_said_and_recorded(client, entra, idp_https):
    url = authorize_url(client)
    parts = urlsplit(url)
    answer = idp_https.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**{k: v[0] for k, v in parse_qs(parts.query).items()}, "login": "cancel"},
        allow_redirects=False,
    )
    back = answer.headers["Location"]
    response = client.get(callback_path(back))
    assert response.status_code == 403
    assert "Microsoft Entra ID did not sign you in: AADSTS65004" in response.content.decode()
    assert AuditEvent.objects.get(action="auth.entra.refused").error_code == "AADSTS65004"


def test_sign_out_ends_the_session_and_offers_the_tenants(client, entra, idp_https):
    sign_in(client, idp_https, people.ADA)
    response = client.post("/logout/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "You are signed out of Contoso Images" in page
    assert "_auth_user_id" not in client.session
    start = page.index('href="', page.index("Sign out of Microsoft too") - 200) + 6
    url = page[start : page.index('"', start)].replace("&amp;", "&")
    assert url.startswith(f"{entra.base_url}/{TENANT}/oauth2/v2.0/logout?")
    tenant = idp_https.get(url, allow_redirects=False)
    assert tenant.status_code == 302 and tenant.headers["Location"] == "http://localhost:8000/"
    assert AuditEvent.objects.filter(action="auth.logout").count() == 1


def test_a_local_users_sign_out_still_goes_to_the_sign_in_page(operator_client, entra):
    response = operator_client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_the_sign_in_page_offers_microsoft_first(client, entra):
    page = client.get("/login/").content.decode()
    assert page.index("Sign in with Microsoft") < page.index('name="password"')


def test_a_user_disabled_here_is_refused_even_with_a_role(client, entra, idp_https):
    sign_in(client, idp_https, people.OLIVIA)
    client.post("/logout/")
    User.objects.update(is_active=False)
    response = sign_in(client, idp_https, people.OLIVIA)
    assert response.status_code == 403
    assert "disabled in Contoso Images" in response.content.decode()
    assert AuditEvent.objects.get(action="auth.entra.refused").error_code == "disabled"


def test_a_first_sign_in_racing_another_makes_one_user(client, entra, idp_https):
    """The second of two simultaneous first sign-ins meets the (tid, oid) key and uses the
    first one's user; its own half-made user is rolled back."""
    from contoso_images.accounts import services

    sign_in(client, idp_https, people.OLIVIA)
    fields = {"tid": TENANT, "oid": people.OLIVIA, "upn": "olivia@x", "name": "Olivia"}
    with transaction.atomic():  # as in services.complete
        identity = services._create(fields, services.SIGN_IN_VIA)
    assert identity == EntraIdentity.objects.get()
    assert User.objects.count() == 1
