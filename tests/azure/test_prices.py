"""Retail prices through the gateway, against the emulated Retail Prices API: the real
pipeline, paging, filters, currency, OS, exclusions, missing prices, retries and errors."""

from __future__ import annotations

import pickle
import time
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

from contoso_images import azure as gateway
from contoso_images.arm_emulator import retail_prices_data as data
from contoso_images.azure import AzureError, RetailPricesError

PRICES_PATH = "/api/retail/prices"


def _price_requests(emulator):
    return [e for e in emulator.request_log() if e.path.startswith(PRICES_PATH)]


def _filter_of(entry) -> str:
    return dict(parse_qsl(urlsplit(entry.path).query))["$filter"]


def test_linux_and_windows_hourly_prices_in_one_request(emulator):
    emulator.clear_request_log()
    prices = gateway.vm_prices("eastus", ["Standard_D2s_v5", "Standard_B2s"])
    linux = prices.price("Standard_D2s_v5", "Linux")
    windows = prices.price("standard_d2s_v5", "windows")
    assert linux is not None and windows is not None
    assert (linux.hourly, windows.hourly) == (Decimal("0.096"), Decimal("0.188"))
    assert linux.product_name == "Virtual Machines Dsv5 Series"
    assert windows.product_name == "Virtual Machines Dsv5 Series Windows"
    assert (linux.os_type, windows.os_type) == ("Linux", "Windows")
    assert linux.meter_name == "D2s v5" and linux.sku_name == "D2s v5"
    assert linux.unit_of_measure == "1 Hour" and linux.price_type == "Consumption"
    assert linux.currency == "USD" and linux.region == "eastus"
    assert prices.hourly_label("Standard_B2s", "Linux") == "0.0416 USD/hour"
    requests = _price_requests(emulator)
    assert len(requests) == 1
    sent = _filter_of(requests[0])
    assert sent == (
        "serviceName eq 'Virtual Machines' and armRegionName eq 'eastus' and "
        "priceType eq 'Consumption' and "
        "(armSkuName eq 'Standard_D2s_v5' or armSkuName eq 'Standard_B2s')"
    )


def test_spot_low_priority_devtest_and_reservations_are_never_the_price(emulator):
    prices = gateway.vm_prices("westeurope", [m.arm_sku for m in data.VM_METERS])
    assert len(prices.prices) == len(data.VM_METERS) * 2
    for chosen in prices.prices.values():
        assert chosen.price_type == "Consumption"
        assert "Spot" not in chosen.meter_name and "Low Priority" not in chosen.meter_name
    # The raw listing has them, so the exclusion above is the gateway's doing.
    raw = gateway.retail_prices(
        service="Virtual Machines", region="westeurope", sku_names=["Standard_D2s_v5"]
    )
    assert {p.meter_name for p in raw} == {"D2s v5", "D2s v5 Spot", "D2s v5 Low Priority"}
    assert all(p.price_type == "Consumption" for p in raw)
    # The quoted westeurope figures.
    assert prices.price("Standard_D2s_v5", "Linux").hourly == Decimal("0.115")  # type: ignore[union-attr]
    assert prices.price("Standard_D2s_v5", "Windows").hourly == Decimal("0.207")  # type: ignore[union-attr]


def test_a_size_without_a_price_says_so_never_zero(emulator):
    prices = gateway.vm_prices("westus2", ["Standard_B2ls_v2", "Standard_B1ms"])
    assert prices.missing == ("Standard_B2ls_v2",)
    assert prices.price("Standard_B2ls_v2", "Linux") is None
    assert prices.hourly_label("Standard_B2ls_v2", "Linux") == "no price found"
    assert prices.hourly_label("Standard_B2ls_v2", "Windows") == gateway.NO_PRICE
    assert prices.hourly_label("Standard_B1ms", "Windows").endswith(" USD/hour")
    # An unknown region has no price for anything, and that is not an error.
    nowhere = gateway.vm_prices("marsnorth", ["Standard_B1ms"])
    assert nowhere.missing == ("Standard_B1ms",) and not nowhere.prices


def test_currency(emulator):
    usd = gateway.vm_prices("eastus", ["Standard_E2s_v5"])
    eur = gateway.vm_prices("eastus", ["Standard_E2s_v5"], currency="eur")
    linux_usd, linux_eur = (
        usd.price("Standard_E2s_v5", "Linux"),
        eur.price("Standard_E2s_v5", "Linux"),
    )
    assert linux_usd is not None and linux_eur is not None
    assert eur.currency == linux_eur.currency == "EUR"
    assert linux_eur.hourly == Decimal("0.10836")  # 0.126 x the illustrative 0.86
    assert eur.hourly_label("Standard_E2s_v5", "Linux") == "0.10836 EUR/hour"
    query = dict(parse_qsl(urlsplit(_price_requests(emulator)[-1].path).query))
    assert query["currencyCode"] == "'EUR'" and query["api-version"] == "2023-01-01-preview"


def test_paging_follows_next_page_link(emulator):
    emulator.set_prices_page_size(4)
    emulator.clear_request_log()
    prices = gateway.vm_prices("northeurope", ["Standard_D2s_v5", "Standard_D4s_v5"])
    # 2 sizes x 2 OS x 3 Consumption meters = 12 items: 3 pages of 4.
    assert len(prices.prices) == 4
    requests = _price_requests(emulator)
    assert len(requests) == 3
    assert [dict(parse_qsl(urlsplit(r.path).query)).get("$skip") for r in requests] == [
        None,
        "4",
        "8",
    ]


def test_disk_prices_per_tier_and_month(emulator):
    disks = gateway.disk_prices("eastus")
    assert disks["P10 LRS"].unit_price == Decimal("19.71")
    assert disks["E10 LRS"].unit_price == Decimal("9.6")
    assert disks["S4 LRS"].product_name == "Standard HDD Managed Disks"
    assert {d.unit_of_measure for d in disks.values()} == {"1/Month"}
    assert len(disks) == len(data.DISK_TIERS)  # the transaction meters are left out


def test_requests_for_30_sizes_in_5_regions(emulator):
    """The figure in the report: one query per region, whatever the number of sizes."""
    sizes = [m.arm_sku for m in data.VM_METERS] + [f"Standard_X{i}_v9" for i in range(15)]
    sizes.append(data.UNPRICED_SIZE)
    assert len(set(sizes)) == 31
    regions = ["eastus", "westeurope", "northeurope", "westus2", "japaneast"]
    emulator.clear_request_log()
    priced = {r: gateway.vm_prices(r, sizes[:30]) for r in regions}
    assert len(_price_requests(emulator)) == 5
    assert all(len(p.prices) == len(data.VM_METERS) * 2 for p in priced.values())


def test_throttling_is_retried(emulator):
    emulator.queue_fault(
        method="GET", path_contains=PRICES_PATH, status=429, retry_after=1, count=2
    )
    emulator.clear_request_log()
    prices = gateway.vm_prices("eastus", ["Standard_B2s"])
    assert prices.price("Standard_B2s", "Linux") is not None
    assert [e.status for e in _price_requests(emulator)] == [429, 429, 200]


def test_server_errors_and_drops_of_a_get_are_retried(emulator):
    emulator.queue_fault(method="GET", path_contains=PRICES_PATH, status=503, count=1)
    emulator.queue_fault(method="GET", path_contains=PRICES_PATH, drop=True, count=1)
    emulator.clear_request_log()
    assert gateway.vm_prices("eastus", ["Standard_B2s"]).prices
    assert [e.status for e in _price_requests(emulator)] == [503, 0, 200]


def test_throttling_beyond_the_wait_cap_is_an_azure_error_with_a_sentence(emulator, settings):
    settings.AZURE_MAX_RETRY_WAIT = 10
    emulator.queue_fault(
        method="GET", path_contains=PRICES_PATH, status=429, retry_after=900, count=1
    )
    started = time.monotonic()
    with pytest.raises(AzureError) as caught:
        gateway.vm_prices("eastus", ["Standard_B2s"])
    assert time.monotonic() - started < 5
    err = caught.value
    assert isinstance(err, RetailPricesError)
    assert err.is_throttled and err.retry_after == 900
    assert err.sentence == (
        "The Azure Retail Prices API is throttling requests; try again in 900 seconds."
    )
    again = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own object
    assert isinstance(again, RetailPricesError) and again.sentence == err.sentence


def test_unreachable_api_is_connection_failed(emulator):
    emulator.queue_fault(method="GET", path_contains=PRICES_PATH, drop=True, count=10)
    with pytest.raises(RetailPricesError) as caught:
        gateway.disk_prices("eastus")
    assert caught.value.code == "ConnectionFailed" and caught.value.is_transient
    assert "Could not reach the Azure Retail Prices API" in caught.value.sentence


def test_a_refused_query_is_an_azure_error(emulator):
    with pytest.raises(RetailPricesError) as caught:
        gateway.retail_prices(service="Virtual Machines", region="eastus", currency="XXX")
    err = caught.value
    assert err.status_code == 400 and not err.is_transient
    assert err.sentence.startswith("The Azure Retail Prices API refused the request (HTTP 400")


def test_endpoint_setting_is_read_by_the_gateway_config(settings):
    from contoso_images.azure.config import current

    assert current().retail_prices_endpoint == "https://prices.azure.com"
    settings.RETAIL_PRICES_ENDPOINT = "https://prices.example.test/"
    assert current().retail_prices_endpoint == "https://prices.example.test"


def test_azure_mode_uses_the_configured_endpoint_without_a_credential(settings):
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy

    settings.AZURE_MODE = "azure"
    settings.RETAIL_PRICES_ENDPOINT = "https://prices.example.test"
    gateway.clear_client_cache()
    client = gateway.retail_prices_client()
    assert client._base_url == "https://prices.example.test"
    names = [type(p).__name__ for p in client._pipeline._impl_policies]
    assert "CappedRetryPolicy" in names
    assert not any(
        isinstance(p, BearerTokenCredentialPolicy) for p in client._pipeline._impl_policies
    )
    gateway.clear_client_cache()


def test_other_hosts_stay_refused_by_the_emulator_transport(emulator):
    from azure.core.exceptions import ServiceRequestError
    from azure.core.rest import HttpRequest

    client = gateway.retail_prices_client()
    with pytest.raises(ServiceRequestError, match="only serves"):
        client.send_request(HttpRequest("GET", "https://example.com/api/retail/prices"))
