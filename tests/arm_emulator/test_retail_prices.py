"""The emulated Azure Retail Prices API: envelope, item shape, filters, paging, currency,
api-version, the meters a correct client must drop, and faults."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from contoso_images.arm_emulator import Emulator
from contoso_images.arm_emulator import retail_prices_data as data

BASE = "https://prices.azure.com/api/retail/prices"
PREVIEW = "2023-01-01-preview"

# Every field of an item, as the doc's example and recorded items have them.
ITEM_FIELDS = {
    "currencyCode",
    "tierMinimumUnits",
    "retailPrice",
    "unitPrice",
    "armRegionName",
    "location",
    "effectiveStartDate",
    "meterId",
    "meterName",
    "productId",
    "skuId",
    "productName",
    "skuName",
    "serviceName",
    "serviceId",
    "serviceFamily",
    "unitOfMeasure",
    "type",
    "isPrimaryMeterRegion",
    "armSkuName",
}


def get(emu: Emulator, query: str = "", url: str = BASE) -> tuple[int, dict[str, Any]]:
    status, _headers, body = emu.handle("GET", f"{url}?{query}" if query else url, {}, None)
    return status, json.loads(body)


def q(odata_filter: str, **params: str) -> str:
    pairs = [*params.items(), ("$filter", odata_filter)]
    return "&".join(f"{k.replace('_', '-')}={quote(v, safe='')}" for k, v in pairs)


VM_EASTUS = "serviceName eq 'Virtual Machines' and armRegionName eq 'eastus'"


def test_envelope_and_item_shape(emu):
    status, body = get(emu, q(f"{VM_EASTUS} and armSkuName eq 'Standard_D2s_v5'"))
    assert status == 200
    assert list(body) == [
        "BillingCurrency",
        "CustomerEntityId",
        "CustomerEntityType",
        "Items",
        "NextPageLink",
        "Count",
    ]
    assert body["BillingCurrency"] == "USD"
    assert (body["CustomerEntityId"], body["CustomerEntityType"]) == ("Default", "Retail")
    assert body["NextPageLink"] is None
    assert body["Count"] == len(body["Items"]) == 10
    for item in body["Items"]:
        extra = {"reservationTerm"} if item["type"] == "Reservation" else set()
        assert set(item) == ITEM_FIELDS | extra
        assert item["armSkuName"] == "Standard_D2s_v5"
        assert item["serviceId"] == "DZH313Z7MMC8" and item["serviceFamily"] == "Compute"
        assert item["skuId"].startswith(item["productId"] + "/")
        assert item["location"] == "US East"
    payg = [i for i in body["Items"] if i["meterName"] == "D2s v5" and i["type"] == "Consumption"]
    by_product = {i["productName"]: i["retailPrice"] for i in payg}
    assert by_product == {
        "Virtual Machines Dsv5 Series": 0.096,
        "Virtual Machines Dsv5 Series Windows": 0.188,
    }
    assert all(i["unitOfMeasure"] == "1 Hour" for i in payg)


def test_each_priced_size_region_and_os_has_one_payg_meter(emu):
    status, body = get(emu, q("serviceName eq 'Virtual Machines' and priceType eq 'Consumption'"))
    assert status == 200
    items = body["Items"]
    # Page 1 of many: count them all by following the links.
    while body["NextPageLink"]:
        _, body = get(emu, url=body["NextPageLink"])
        items += body["Items"]
    payg = [
        i for i in items if "Spot" not in i["meterName"] and "Low Priority" not in i["meterName"]
    ]
    keys = [
        (i["armSkuName"], i["armRegionName"], i["productName"].endswith(" Windows")) for i in payg
    ]
    assert len(keys) == len(set(keys)) == len(data.VM_METERS) * len(data.PRICED_REGIONS) * 2


def test_exclusions_a_client_must_make_are_served(emu):
    _, body = get(emu, q(f"{VM_EASTUS} and armSkuName eq 'Standard_B2s'"))
    kinds = {(i["type"], i["meterName"], i["productName"]) for i in body["Items"]}
    assert ("Consumption", "B2s Spot", "Virtual Machines BS Series") in kinds
    assert ("Consumption", "B2s Low Priority", "Virtual Machines BS Series Windows") in kinds
    assert ("DevTestConsumption", "B2s", "Virtual Machines BS Series Windows") in kinds
    terms = {i.get("reservationTerm") for i in body["Items"] if i["type"] == "Reservation"}
    assert terms == {"1 Year", "3 Years"}
    # priceType filters the items' type.
    _, body = get(
        emu, q(f"{VM_EASTUS} and armSkuName eq 'Standard_B2s' and priceType eq 'Consumption'")
    )
    assert {i["type"] for i in body["Items"]} == {"Consumption"}
    assert len(body["Items"]) == 6  # Linux and Windows: pay-as-you-go, Spot, Low Priority


def test_a_seeded_size_has_no_price(emu):
    assert data.UNPRICED_SIZE == "Standard_B2ls_v2"
    _, body = get(emu, q(f"armSkuName eq '{data.UNPRICED_SIZE}'"))
    assert body["Items"] == [] and body["Count"] == 0 and body["NextPageLink"] is None


def test_or_parentheses_and_contains(emu):
    sizes = "(armSkuName eq 'Standard_B1s' or armSkuName eq 'Standard_E4s_v5')"
    _, body = get(emu, q(f"{VM_EASTUS} and priceType eq 'Consumption' and {sizes}"))
    assert {i["armSkuName"] for i in body["Items"]} == {"Standard_B1s", "Standard_E4s_v5"}
    _, body = get(emu, q(f"{VM_EASTUS} and contains(meterName, 'Spot')"))
    assert body["Items"] and all("Spot" in i["meterName"] for i in body["Items"])
    # `contains(...) eq false` is how clients exclude, since `not` is refused.
    _, body = get(
        emu,
        q(
            f"{VM_EASTUS} and armSkuName eq 'Standard_B1s'"
            " and contains(productName, 'Windows') eq false"
        ),
    )
    assert body["Items"] and not any("Windows" in i["productName"] for i in body["Items"])
    _, body = get(
        emu, q(f"{VM_EASTUS} and armSkuName eq 'Standard_B1s' and isPrimaryMeterRegion eq true")
    )
    assert len(body["Items"]) == 10


@pytest.mark.parametrize(
    "odata_filter",
    [
        "not(contains(productName,'Windows'))",
        "retailPrice gt 1",
        "startswith(meterName,'D')",
        "noSuchField eq 'x'",
        "serviceName eq 'Virtual Machines' and",
        "serviceName eq Virtual",
    ],
)
def test_filters_it_cannot_understand_are_refused(emu, odata_filter):
    status, body = get(emu, q(odata_filter))
    assert status == 400
    assert body["error"]["code"] == "BadRequest"


def test_values_are_case_sensitive_with_the_current_api_version(emu):
    lower = "serviceName eq 'virtual machines' and armSkuName eq 'Standard_B1s'"
    for query in (q(lower), q(lower, api_version=PREVIEW)):
        _, body = get(emu, query)
        assert body["Items"] == []
    # Earlier api-versions compared values case-insensitively (the doc).
    _, body = get(emu, q(lower, api_version="2021-10-01-preview"))
    assert len(body["Items"]) == 10 * len(data.PRICED_REGIONS)


def test_savings_plan_only_with_the_preview_api_version(emu):
    one = f"{VM_EASTUS} and armSkuName eq 'Standard_D2s_v5' and priceType eq 'Consumption'"
    _, body = get(emu, q(one))
    assert not any("savingsPlan" in i for i in body["Items"])
    _, body = get(emu, q(one, api_version=PREVIEW))
    with_plan = [i for i in body["Items"] if "savingsPlan" in i]
    assert [(i["productName"], i["meterName"]) for i in with_plan] == [
        ("Virtual Machines Dsv5 Series", "D2s v5")
    ]
    # The figures the API was quoted with for D2s v5 in eastus.
    plan = {p["term"]: p["retailPrice"] for p in with_plan[0]["savingsPlan"]}
    assert plan == {"1 Year": 0.065837, "3 Years": 0.044179}


def test_currency_code_converts_prices_and_the_envelope(emu):
    one = f"{VM_EASTUS} and armSkuName eq 'Standard_D2s_v5' and priceType eq 'Consumption'"
    _, usd = get(emu, q(one))
    _, eur = get(emu, f"currencyCode='EUR'&{q(one)}")
    assert eur["BillingCurrency"] == "EUR"
    assert {i["currencyCode"] for i in eur["Items"]} == {"EUR"}
    rate = 0.86
    for a, b in zip(usd["Items"], eur["Items"], strict=True):
        assert b["retailPrice"] == pytest.approx(a["retailPrice"] * rate, abs=1e-6)
        assert b["meterId"] == a["meterId"]
    # The currency is also filterable, as clients do (currencyCode eq 'USD').
    gbp = q(one + " and currencyCode eq 'GBP'")
    _, body = get(emu, f"currencyCode='GBP'&{gbp}")
    assert len(body["Items"]) == 6
    status, body = get(emu, f"currencyCode='XXX'&{q(one)}")
    assert status == 400


def test_paging_by_next_page_link(emu):
    emu.set_prices_page_size(7)
    one = f"{VM_EASTUS} and armSkuName eq 'Standard_D2s_v5'"
    status, body = get(emu, f"currencyCode='EUR'&{q(one)}")
    assert status == 200 and body["Count"] == 7
    link = body["NextPageLink"]
    parts = urlsplit(link)
    # Absolute, on the API's host with its default port named, the query repeated + $skip.
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "prices.azure.com:443",
        "/api/retail/prices",
    )
    params = dict(parse_qsl(parts.query))
    assert params == {"currencyCode": "'EUR'", "$filter": one, "$skip": "7"}
    _, second = get(emu, url=link)
    assert second["Count"] == 3 and second["NextPageLink"] is None
    all_items = body["Items"] + second["Items"]
    assert len({i["meterId"] + i["type"] for i in all_items}) == 10
    # Past the end: an empty page.
    _, past = get(emu, f"{q(one)}&$skip=70")
    assert past["Items"] == [] and past["NextPageLink"] is None


def test_disk_tiers_per_month(emu):
    _, body = get(
        emu,
        q("serviceName eq 'Storage' and armRegionName eq 'eastus' and priceType eq 'Consumption'"),
    )
    disks = {i["skuName"]: i for i in body["Items"] if i["meterName"].endswith(" Disk")}
    assert disks["P10 LRS"]["retailPrice"] == 19.71
    assert disks["E10 LRS"]["retailPrice"] == 9.6
    assert disks["S10 LRS"]["productName"] == "Standard HDD Managed Disks"
    assert {i["unitOfMeasure"] for i in disks.values()} == {"1/Month"}
    assert {i["serviceFamily"] for i in body["Items"]} == {"Storage"}
    assert any(i["meterName"].endswith("Disk Operations") for i in body["Items"])


def test_only_get_on_the_prices_path(emu):
    status, _, _ = emu.handle("POST", BASE, {}, b"{}")
    assert status == 405
    # ARM's host does not answer the prices path.
    status, _, _ = emu.handle("GET", "https://management.azure.com/api/retail/prices", {}, None)
    assert status == 404


def test_faults_apply_to_the_prices_host(emu):
    emu.queue_fault(method="GET", path_contains="/api/retail/prices", status=429, count=1)
    emu.clear_request_log()
    status, headers, _ = emu.handle("GET", f"{BASE}?{q(VM_EASTUS)}", {}, None)
    assert status == 429 and headers["Retry-After"] == "1"
    status, _, _ = emu.handle("GET", f"{BASE}?{q(VM_EASTUS)}", {}, None)
    assert status == 200
    assert [e.status for e in emu.request_log()] == [429, 200]
    assert emu.request_log()[0].path.startswith("/api/retail/prices?")
