"""The sign-in settings: an unsafe configuration stops the server (system checks) and is
never used to sign anyone in."""

from __future__ import annotations

import pytest

from contoso_images.accounts import config

GUID = "4a1c2b3d-6e7f-4081-92a3-b4c5d6e7f809"


@pytest.fixture
def configured(settings):
    settings.ENTRA_TENANT_ID = GUID
    settings.ENTRA_CLIENT_ID = "5f0c2a8e-3b71-4d29-9e46-8c1b7a0d2f35"
    settings.ENTRA_CLIENT_SECRET = "secret"
    settings.ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"
    settings.ENTRA_ALLOWED_TENANTS = []
    settings.ENTRA_ROLE_MAP = {"operators": "operators"}
    settings.ENTRA_ROLES_MAX_AGE = 15
    return settings


def _ids() -> list[str]:
    return [message.id for message in config.check_settings()]


def test_a_pinned_tenant_is_configured(configured):
    assert _ids() == []
    assert config.entra() is not None
    assert config.entra().authority == f"https://login.microsoftonline.com/{GUID}"


def test_nothing_set_is_not_configured_and_not_an_error(settings):
    settings.ENTRA_TENANT_ID = settings.ENTRA_CLIENT_ID = settings.ENTRA_CLIENT_SECRET = ""
    assert _ids() == [] and config.entra() is None


@pytest.mark.parametrize("tenant", ["common", "organizations", "Common"])
def test_multi_tenant_is_refused_unless_tenants_are_listed(configured, tenant):
    configured.ENTRA_TENANT_ID = tenant
    assert _ids() == ["accounts.E003"] and config.entra() is None
    configured.ENTRA_ALLOWED_TENANTS = [GUID]
    assert _ids() == [] and config.entra() is not None


def test_personal_accounts_are_refused(configured):
    configured.ENTRA_TENANT_ID = "consumers"
    assert _ids() == ["accounts.E002"]
    configured.ENTRA_TENANT_ID = "organizations"
    configured.ENTRA_ALLOWED_TENANTS = ["9188040d-6c67-4c5b-b112-36a304b66dad"]
    assert _ids() == ["accounts.E005"]


@pytest.mark.parametrize(
    ("name", "value", "check"),
    [
        ("ENTRA_CLIENT_SECRET", "", "accounts.E001"),
        ("ENTRA_ALLOWED_TENANTS", ["contoso.com"], "accounts.E004"),
        ("ENTRA_AUTHORITY_HOST", "http://login.example", "accounts.E006"),
        ("ENTRA_ROLE_MAP", {"admins": "administrators"}, "accounts.E007"),
        ("ENTRA_ROLE_MAP", {}, "accounts.E008"),
        ("ENTRA_ROLES_MAX_AGE", 0, "accounts.E009"),
    ],
)
def test_each_problem_is_an_error(configured, name, value, check):
    setattr(configured, name, value)
    assert check in _ids()
    assert config.entra() is None


def test_a_host_without_scheme_is_https(configured):
    configured.ENTRA_AUTHORITY_HOST = "login.microsoftonline.us/"
    assert config.read().authority_host == "https://login.microsoftonline.us"


def test_group_ids_in_the_role_map_are_matched_in_lower_case(configured):
    configured.ENTRA_ROLE_MAP = {"3F9A0B1C-2D3E-4F50-8162-738495A6B7C8": "operators"}
    cfg = config.read()
    assert cfg.role_map == {"3f9a0b1c-2d3e-4f50-8162-738495a6b7c8": "operators"}
    assert cfg.maps_groups


def test_local_login_off_without_entra_is_a_warning(settings):
    settings.ENTRA_TENANT_ID = settings.ENTRA_CLIENT_ID = settings.ENTRA_CLIENT_SECRET = ""
    settings.LOCAL_LOGIN = False
    assert _ids() == ["accounts.W001"]


def test_the_ca_bundle_falls_back_to_the_gateways(configured):
    configured.ENTRA_CA_BUNDLE = ""
    configured.AZURE_CA_BUNDLE = "/etc/ca.pem"
    assert config.read().verify() == "/etc/ca.pem"
    configured.AZURE_CA_BUNDLE = ""
    assert config.read().verify() is True  # the system's trust, never "off"
