"""The people and applications of the emulated Contoso tenant (and one other tenant).

Every id is fixed so tests, settings and documentation can name them. Who is here, and why:

* one person per dashboard role (``operators``, ``reviewers``, ``auditors``) and one with two
  roles, because the sign-in maps app roles to Django groups;
* Nico, signed in but with no role (the dashboard must let him in to nothing);
* Gus, a member of 250 security groups: more than the 200 a JWT may carry, so his ID token
  holds the groups *overage* claims (``_claim_names`` / ``_claim_sources``) instead of
  ``groups`` (id-token-claims-reference, azure-facts §15.3);
* Grace, a guest: her home account is in Fabrikam, her guest object in Contoso has its own
  ``oid`` (a guest is a different ``oid`` in each tenant) and the ``reviewers`` role;
* Felix, a Fabrikam member with no guest object in Contoso: a single-tenant sign-in refuses him
  (AADSTS50020), and a multi-tenant one brings a ``tid`` the dashboard must not accept.

Applications: the dashboard's web app (client id, secret, redirect URIs on ``localhost`` /
``127.0.0.1``, app roles, groups claim on) and a daemon app whose service principal the
gateway uses with the client-credentials grant to call Resource Manager.

The secrets below are the emulator's own fixtures: they open nothing but the emulator.
"""

from __future__ import annotations

import uuid

from contoso_images.arm_emulator.seed import TENANT_ID

from .directory import GUEST, SINGLE_TENANT, App, AppRole, Tenant, User

#: The pilot tenant (one id for ARM and the directory).
CONTOSO_TENANT_ID = TENANT_ID

FABRIKAM_TENANT_ID = "9b7e5c1d-2f40-4c3e-8a61-0d5f3b2a7c94"
CONTOSO_DOMAIN = "contosopilot.onmicrosoft.com"
FABRIKAM_DOMAIN = "fabrikam-partners.onmicrosoft.com"

TENANTS = (
    Tenant(CONTOSO_TENANT_ID, CONTOSO_DOMAIN, "Contoso Pilot"),
    Tenant(FABRIKAM_TENANT_ID, FABRIKAM_DOMAIN, "Fabrikam Partners"),
)

DASHBOARD_CLIENT_ID = "5f0c2a8e-3b71-4d29-9e46-8c1b7a0d2f35"
DASHBOARD_CLIENT_SECRET = "emu~dashboard~5f0c2a8e.Q8rT2wX7yZ"  # noqa: S105 - emulator fixture
GATEWAY_CLIENT_ID = "c3d9e4f1-7a26-4b58-8d0e-1f2a3b4c5d6e"
GATEWAY_CLIENT_SECRET = "emu~gateway~c3d9e4f1.Lm4Np6Rs8Tv"  # noqa: S105 - emulator fixture
DASHBOARD_SP_OID = "0e6a1f3c-9d24-4b87-a5c1-7f2e8d4b6a90"
GATEWAY_SP_OID = "2b8d4f6a-1c3e-4a5b-9d7f-0e1c2b3a4d5f"

# App roles: the values are the dashboard's group names, so a role maps onto a group as is.
OPERATORS, REVIEWERS, AUDITORS = "operators", "reviewers", "auditors"
DASHBOARD_ROLES = (
    AppRole(OPERATORS, "Operators", "7a1e2b3c-4d5e-4f60-8a71-b2c3d4e5f601", "Run VM actions"),
    AppRole(REVIEWERS, "Reviewers", "7a1e2b3c-4d5e-4f60-8a71-b2c3d4e5f602", "Review images"),
    AppRole(AUDITORS, "Auditors", "7a1e2b3c-4d5e-4f60-8a71-b2c3d4e5f603", "Read the audit"),
)
DASHBOARD_REDIRECT_URIS = (
    "http://localhost:8000/auth/callback/",
    "http://127.0.0.1:8000/auth/callback/",
)
DASHBOARD_LOGOUT_URIS = ("http://localhost:8000/", "http://127.0.0.1:8000/")

# Named security groups (object ids), and the 250 of the overage case.
GROUP_IT_OPERATIONS = "3f9a0b1c-2d3e-4f50-8162-738495a6b7c8"
GROUP_IMAGE_BOARD = "4a0b1c2d-3e4f-4061-9273-8495a6b7c8d9"
GROUP_SECURITY_AUDIT = "5b1c2d3e-4f50-4172-a384-95a6b7c8d9ea"
GROUP_ALL_STAFF = "6c2d3e4f-5061-4283-b495-a6b7c8d9eafb"
GROUP_CLAIM_LIMIT = 200  # groups a JWT may carry (id-token-claims-reference)
OVERAGE_GROUP_COUNT = 250


def overage_groups() -> tuple[str, ...]:
    """250 stable group ids (uuid5 of a name), for the user past the JWT group limit."""
    return tuple(
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"contoso-pilot/groups/{i}"))
        for i in range(OVERAGE_GROUP_COUNT)
    )


def _member(oid: str, mail_name: str, name: str, groups: tuple[str, ...], *roles: str) -> User:
    upn = f"{mail_name}@{CONTOSO_DOMAIN}"
    return User(
        oid=oid,
        tenant=CONTOSO_TENANT_ID,
        upn=upn,
        display_name=name,
        email=upn,
        groups=groups,
        roles={DASHBOARD_CLIENT_ID: tuple(roles)} if roles else {},
    )


OLIVIA = "a3f1c2d4-5e6b-4c7d-8e9f-0a1b2c3d4e51"
RUI = "b4a2d3e5-6f7c-4d8e-9fa0-1b2c3d4e5f62"
ADA = "c5b3e4f6-7a8d-4e9f-a0b1-2c3d4e5f6a73"
MORGAN = "d6c4f5a7-8b9e-4fa0-b1c2-3d4e5f6a7b84"
NICO = "e7d5a6b8-9caf-40b1-c2d3-4e5f6a7b8c95"
GUS = "f8e6b7c9-adb0-41c2-d3e4-5f6a7b8c9da6"
GRACE_HOME = "0af7c8da-bec1-42d3-e4f5-6a7b8c9daeb7"
GRACE_GUEST = "1b08d9eb-cfd2-43e4-f506-7b8c9daebfc8"
FELIX = "2c19eafc-d0e3-44f5-a617-8c9daebfc0d9"


def users() -> tuple[User, ...]:
    grace_mail = f"grace@{FABRIKAM_DOMAIN}"
    return (
        _member(OLIVIA, "olivia", "Olivia Operator", (GROUP_IT_OPERATIONS,), OPERATORS),
        _member(RUI, "rui", "Rui Reviewer", (GROUP_IMAGE_BOARD,), REVIEWERS),
        _member(ADA, "ada", "Ada Auditor", (GROUP_SECURITY_AUDIT,), AUDITORS),
        _member(
            MORGAN,
            "morgan",
            "Morgan Lead",
            (GROUP_IT_OPERATIONS, GROUP_IMAGE_BOARD),
            OPERATORS,
            REVIEWERS,
        ),
        _member(NICO, "nico", "Nico Newcomer", (GROUP_ALL_STAFF,)),
        _member(GUS, "gus", "Gus Groups", (GROUP_ALL_STAFF, *overage_groups()), REVIEWERS),
        User(
            oid=GRACE_HOME,
            tenant=FABRIKAM_TENANT_ID,
            upn=grace_mail,
            display_name="Grace Guest",
            email=grace_mail,
        ),
        User(
            oid=GRACE_GUEST,
            tenant=CONTOSO_TENANT_ID,
            # How Entra names a guest: the home address with '@' as '_', then #EXT#.
            upn=f"grace_{FABRIKAM_DOMAIN}#EXT#@{CONTOSO_DOMAIN}",
            display_name="Grace Guest",
            email=grace_mail,
            user_type=GUEST,
            home_tenant=FABRIKAM_TENANT_ID,
            home_oid=GRACE_HOME,
            roles={DASHBOARD_CLIENT_ID: (REVIEWERS,)},
        ),
        User(
            oid=FELIX,
            tenant=FABRIKAM_TENANT_ID,
            upn=f"felix@{FABRIKAM_DOMAIN}",
            display_name="Felix Fabrikam",
            email=f"felix@{FABRIKAM_DOMAIN}",
        ),
    )


def apps() -> tuple[App, ...]:
    return (
        App(
            client_id=DASHBOARD_CLIENT_ID,
            tenant=CONTOSO_TENANT_ID,
            display_name="Contoso Images",
            sp_oid=DASHBOARD_SP_OID,
            redirect_uris=DASHBOARD_REDIRECT_URIS,
            logout_uris=DASHBOARD_LOGOUT_URIS,
            app_roles=DASHBOARD_ROLES,
            identifier_uris=(f"api://{DASHBOARD_CLIENT_ID}",),
            sign_in_audience=SINGLE_TENANT,
            group_claims=True,
            secrets=(DASHBOARD_CLIENT_SECRET,),
        ),
        App(
            client_id=GATEWAY_CLIENT_ID,
            tenant=CONTOSO_TENANT_ID,
            display_name="contoso-images-gateway",
            sp_oid=GATEWAY_SP_OID,
            sign_in_audience=SINGLE_TENANT,
            secrets=(GATEWAY_CLIENT_SECRET,),
        ),
    )
