"""The emulated directory from Python: what tests and demos change, and what it keeps."""

from __future__ import annotations

import pytest
from azure.mgmt.resource.subscriptions import SubscriptionClient

from contoso_images.arm_emulator import Emulator
from contoso_images.arm_emulator.identity import GUEST
from contoso_images.arm_emulator.identity import seed as people
from contoso_images.arm_emulator.network import Network
from contoso_images.azure.emulator_transport import EmulatorTransport, StaticCredential


def test_the_seeded_people_and_apps(emu: Emulator):
    identity = emu.identity
    by_oid = {u.oid: u for u in identity.users()}
    client = people.DASHBOARD_CLIENT_ID
    assert by_oid[people.OLIVIA].roles_for(client) == ("operators",)
    assert by_oid[people.RUI].roles_for(client) == ("reviewers",)
    assert by_oid[people.ADA].roles_for(client) == ("auditors",)
    assert by_oid[people.NICO].roles_for(client) == ()
    assert len(by_oid[people.GUS].groups) > people.GROUP_CLAIM_LIMIT
    grace = by_oid[people.GRACE_GUEST]
    assert grace.user_type == GUEST and grace.home_oid == people.GRACE_HOME
    assert by_oid[people.FELIX].tenant == people.FABRIKAM_TENANT_ID
    dashboard = identity.app(client)
    assert dashboard.role_values() == ("operators", "reviewers", "auditors")
    assert dashboard.redirect_uris == people.DASHBOARD_REDIRECT_URIS
    assert "secrets" not in repr(dashboard) and people.DASHBOARD_CLIENT_SECRET not in repr(
        dashboard
    )
    assert identity.app(people.GATEWAY_CLIENT_ID).sp_oid == people.GATEWAY_SP_OID


def test_changes_are_seen_by_another_process_handle(emu: Emulator, state_path):
    emu.identity.set_roles(people.OLIVIA, ["operators", "auditors"])
    emu.identity.rename_user(people.OLIVIA, display_name="Olivia O.")
    other = Emulator(state_path).identity.user(people.OLIVIA)
    assert other.display_name == "Olivia O." and other.oid == people.OLIVIA
    assert other.roles_for(people.DASHBOARD_CLIENT_ID) == ("operators", "auditors")


def test_roles_must_be_defined_by_the_app(emu: Emulator):
    with pytest.raises(ValueError, match="defines no role"):
        emu.identity.set_roles(people.OLIVIA, ["admins"])


def test_add_and_remove_a_user(emu: Emulator):
    user = emu.identity.add_user("Pat New", "pat@contosopilot.onmicrosoft.com", roles=["auditors"])
    assert emu.identity.user("PAT@contosopilot.onmicrosoft.com").oid == user.oid
    with pytest.raises(ValueError, match="exists"):
        emu.identity.add_user("Pat Again", "pat@contosopilot.onmicrosoft.com")
    emu.identity.remove_user(user.oid)
    with pytest.raises(LookupError):
        emu.identity.user(user.oid)


def test_reset_forgets_the_directory_but_keeps_the_keys(emu: Emulator):
    kids = [k.kid for k in emu.identity.signing_keys()]
    emu.identity.remove_user(people.NICO)
    emu.identity.set_token_lifetimes(access=60)
    emu.reset()
    assert emu.identity.user(people.NICO)  # seeded again on next use
    assert emu.identity.settings().access_token_seconds == 3600
    assert [k.kid for k in emu.identity.signing_keys()] == kids


def test_tenants_listing_through_the_sdk(emu: Emulator):
    client = SubscriptionClient(StaticCredential(), transport=EmulatorTransport(emu))
    tenants = list(client.tenants.list())
    assert [t.tenant_id for t in tenants] == [people.CONTOSO_TENANT_ID]
    assert tenants[0].display_name == "Contoso Pilot"
    assert tenants[0].default_domain == people.CONTOSO_DOMAIN


def test_network_switches_are_generations(emu: Emulator):
    network = Network(emu.store)
    assert not network.settings().refuse
    network.refuse_connections()
    first = network.settings()
    network.serve_wrong_certificate()
    second = network.settings()
    assert first.refuse and second.refuse and second.wrong_certificate
    assert second.generation == first.generation + 1
    assert not network.wait_applied(timeout=0.05)  # no server acknowledged it
    network.acknowledge(second.generation)
    assert network.wait_applied(timeout=0.05)
    emu.clear_faults()
    assert not network.settings().refuse and not network.settings().wrong_certificate
    with pytest.raises(ValueError):
        network.set_reset_point("middle")


def test_the_retail_prices_api_needs_no_token(emu: Emulator):
    emu.identity.require_tokens()
    status, _headers, _body = emu.handle(
        "GET", "https://prices.azure.com/api/retail/prices", {}, None
    )
    assert status != 401
    status, _headers, _body = emu.handle(
        "GET", "https://management.azure.com/subscriptions?api-version=2022-12-01", {}, None
    )
    assert status == 401
