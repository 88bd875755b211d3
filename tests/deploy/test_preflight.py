"""The pre-flight's rules as pure functions of the request and Azure's facts."""

from __future__ import annotations

from types import SimpleNamespace

from contoso_images import azure
from vmops.deploy.preflight import AzureFacts, DeployAsk, names_of, password_ok, problems

SUBNET = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a"
)


def _image(**changes):
    values = {
        "os_type": "Linux",
        "hyper_v_generation": "V2",
        "architecture": "x64",
        "is_marketplace": True,
        "is_gallery_version": False,
        "location": "westeurope",
        "definition": None,
        "security_type": "",
    }
    values.update(changes)
    return SimpleNamespace(**values, __str__=lambda self: "image")


def _facts(**sku):
    base = {
        "name": "Standard_D4s_v5",
        "family": "standardDSv5Family",
        "vcpus": 4,
        "memory_gb": 16.0,
        "hyper_v_generations": ("V1", "V2"),
        "architecture": "x64",
    }
    base.update(sku)
    return AzureFacts(
        skus=[azure.ResourceSku(**base)],
        usages=[
            azure.Usage("standardDSv5Family", "Standard DSv5 Family vCPUs", 14, 20),
            azure.Usage("cores", "Total Regional vCPUs", 20, 100),
        ],
        networks=[
            azure.VirtualNetwork(
                id="/v",
                subscription_id="s",
                resource_group="rg",
                name="v",
                location="westeurope",
                address_prefixes=("10.0.0.0/16",),
                subnets=(azure.Subnet(SUBNET, "a", "10.0.0.0/24"),),
            )
        ],
    )


def _ask(**changes):
    values = {
        "image": _image(),
        "name": "web",
        "count": 1,
        "resource_group": "rg",
        "location": "westeurope",
        "size": "Standard_D4s_v5",
        "subnet_id": SUBNET,
        "admin_username": "azureuser",
        "ssh_public_key": "ssh-ed25519 AAAA x",
    }
    values.update(changes)
    return DeployAsk(**values)


def test_a_valid_request_has_no_problem():
    assert problems(_ask(), _facts()) == {}


def test_quota_is_counted_for_the_whole_batch():
    found = problems(_ask(count=2), _facts())
    assert found == {"size": ["Needs 8 vCPUs of standardDSv5Family; 6 of 20 left in westeurope."]}


def test_a_restricted_size_and_a_gen1_only_size():
    restricted = problems(
        _ask(), _facts(restricted=True, restriction_reason="NotAvailableForSubscription")
    )
    assert "is currently not available in location 'westeurope'" in restricted["size"][0]
    gen1 = problems(_ask(), _facts(hyper_v_generations=("V1",)))
    assert "cannot boot Hypervisor Generation '2'" in gen1["size"][0]


def test_subnet_must_be_in_the_region_and_names_are_numbered():
    assert "subnet" in problems(_ask(subnet_id="/elsewhere"), _facts())
    assert names_of("web", 3) == ["web-01", "web-02", "web-03"]
    assert names_of("web", 1) == ["web"]


def test_password_rules_follow_azure():
    assert password_ok("Kx7!pLq2#Vw9", "Windows")
    assert not password_ok("P@ssw0rd", "Windows")  # banned
    assert not password_ok("alllowercase", "Windows")
    assert not password_ok("Ab1!", "Linux")  # too short
