"""Prices from the public Azure Retail Prices API (``GET {endpoint}/api/retail/prices``).

What "stopped but still billed" costs is the pay-as-you-go compute price of the VM's size in
its region for its OS, per hour, and managed disks are billed per tier and month. Those come
from the unauthenticated Retail Prices API, fetched through an azure-core pipeline with the
ARM clients' retry policy and timeouts (``clients.retail_prices_client``): 429 and 5xx are
retried when they carry ``Retry-After`` (GETs also on plain 5xx and dropped connections),
within the same ``AZURE_MAX_RETRY_WAIT`` budget, and anything else becomes an
:class:`AzureError` (a :class:`RetailPricesError`) with a sentence.

Requests are few: :func:`vm_prices` asks for every size of one region in one filtered query
(``serviceName``, ``armRegionName``, ``priceType eq 'Consumption'`` and the sizes OR-ed
together, at most ``SIZES_PER_QUERY`` to a query), and a page holds up to 1,000 items, so
pricing 30 sizes in 5 regions costs 5 requests (``tests/azure/test_prices.py`` counts them).

How an item is chosen, after the API's own filter (facts §14; the doc and public clients):
``type == "Consumption"`` (not ``DevTestConsumption`` or ``Reservation``); no ``Spot`` or
``Low Priority`` in ``skuName``/``meterName``; the OS from ``productName`` (Windows products
end in `` Windows``); a primary meter region before a non-primary one; a price of 0 is a
placeholder, never a price. A size with no such item has **no price** — callers say "no
price found", never 0.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote, urlsplit

from azure.core.rest import HttpRequest

from contoso_images.azure.clients import retail_prices_client
from contoso_images.azure.errors import CONNECTION_FAILED, AzureError, gateway_call
from contoso_images.azure.raw import moment

VM_SERVICE = "Virtual Machines"
STORAGE_SERVICE = "Storage"
CONSUMPTION = "Consumption"
#: The current api-version: exact (case-sensitive) filter values; backward compatible.
API_VERSION = "2023-01-01-preview"
PATH = "/api/retail/prices"
#: Sizes OR-ed into one query; keeps the URL far below the usual 8 KB limits.
SIZES_PER_QUERY = 40
#: A listing longer than this many pages is a server that never stops paging.
MAX_PAGES = 200
NO_PRICE = "no price found"
LINUX, WINDOWS = "Linux", "Windows"
#: Products of managed disks, by tier letter (P: Premium SSD, E: Standard SSD, S: Standard HDD).
DISK_PRODUCTS = (
    "Premium SSD Managed Disks",
    "Standard SSD Managed Disks",
    "Standard HDD Managed Disks",
)
_EXCLUDED_METERS = ("Spot", "Low Priority")


class RetailPricesError(AzureError):
    """An :class:`AzureError` from the Retail Prices API: its sentences name that API (not
    Resource Manager or a subscription, which the ARM sentences speak of)."""

    @property
    def sentence(self) -> str:
        if self.is_throttled:
            wait = f"{self.retry_after} seconds" if self.retry_after else "a little while"
            return f"The Azure Retail Prices API is throttling requests; try again in {wait}."
        if self.code == CONNECTION_FAILED:
            return "Could not reach the Azure Retail Prices API; prices are shown once it answers."
        if self.status_code is not None and self.status_code >= 500:
            return "The Azure Retail Prices API failed to answer; try again shortly."
        if self.status_code is not None:
            return (
                f"The Azure Retail Prices API refused the request "
                f"(HTTP {self.status_code}: {self.message or self.code})."
            )
        return f"The Azure Retail Prices API answered something unexpected: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.code, self.message, self._extras()))


def _rebuild(code: str, message: str, extras: dict[str, Any]) -> RetailPricesError:
    return RetailPricesError(code, message, **extras)


@dataclass(frozen=True)
class RetailPrice:
    """One price item of the API, as the dashboard needs it."""

    service_name: str
    product_name: str
    sku_name: str
    meter_name: str
    meter_id: str
    arm_sku_name: str
    region: str
    location: str
    unit_price: Decimal
    retail_price: Decimal
    currency: str
    unit_of_measure: str
    price_type: str
    os_type: str  # "Linux" / "Windows" for Virtual Machines meters, "" otherwise
    effective_start: datetime | None
    is_primary_meter_region: bool
    tier_minimum_units: Decimal = Decimal(0)

    @property
    def hourly(self) -> Decimal | None:
        """The price of one hour, when the meter counts hours one by one."""
        return self.unit_price if self.unit_of_measure == "1 Hour" else None

    @property
    def is_spot_or_low_priority(self) -> bool:
        names = f"{self.sku_name} {self.meter_name}"
        return any(word in names for word in _EXCLUDED_METERS)


@dataclass(frozen=True)
class ComputePrices:
    """Pay-as-you-go hourly prices of VM sizes in one region, per OS.

    ``prices`` is keyed by ``(size in lower case, "Linux" | "Windows")``; ``missing`` lists
    the sizes asked for that have no price for either OS."""

    region: str
    currency: str
    prices: Mapping[tuple[str, str], RetailPrice] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def price(self, size: str, os_type: str) -> RetailPrice | None:
        return self.prices.get((size.lower(), _os_key(os_type)))

    def hourly_label(self, size: str, os_type: str) -> str:
        """``"0.096 USD/hour"``, or ``"no price found"`` — never a 0 for a missing price."""
        found = self.price(size, os_type)
        if found is None or found.hourly is None:
            return NO_PRICE
        return f"{found.hourly.normalize():f} {found.currency}/hour"


def _os_key(os_type: str) -> str:
    return WINDOWS if os_type.strip().lower() == "windows" else LINUX


# --- the API ---------------------------------------------------------------------------------

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _prices_call(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``gateway_call`` (SDK errors become AzureError, one retry budget), with sentences
    that name the Retail Prices API."""
    translated = gateway_call(func)

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return translated(*args, **kwargs)
        except RetailPricesError:
            raise
        except AzureError as err:
            raise RetailPricesError(err.code, err.message, **err._extras()) from err

    return wrapper


def _literal(value: str) -> str:
    """An OData string literal: quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _any_of(name: str, values: Iterable[str]) -> str:
    clauses = [f"{name} eq {_literal(v)}" for v in values]
    return clauses[0] if len(clauses) == 1 else "(" + " or ".join(clauses) + ")"


def build_filter(
    *,
    service: str,
    region: str | None = None,
    sku_names: Sequence[str] | None = None,
    product_names: Sequence[str] | None = None,
    price_type: str = CONSUMPTION,
) -> str:
    """The ``$filter`` of one query (values are exact: the API compares them
    case-sensitively)."""
    parts = [f"serviceName eq {_literal(service)}"]
    if region:
        parts.append(f"armRegionName eq {_literal(region.lower())}")
    parts.append(f"priceType eq {_literal(price_type)}")
    if sku_names:
        parts.append(_any_of("armSkuName", sku_names))
    if product_names:
        parts.append(_any_of("productName", product_names))
    return " and ".join(parts)


def _first_url(endpoint: str, odata_filter: str, currency: str) -> str:
    query = [
        ("api-version", API_VERSION),
        ("currencyCode", _literal(currency.upper())),
        ("$filter", odata_filter),
    ]
    return f"{endpoint}{PATH}?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query)


def _same_host(link: str, endpoint: str) -> bool:
    """``NextPageLink`` must stay on the API's host (it names port 443 explicitly)."""
    a, b = urlsplit(link), urlsplit(endpoint)
    return a.scheme == b.scheme and (a.hostname or "") == (b.hostname or "")


def _pages(odata_filter: str, currency: str) -> Iterator[list[Any]]:
    """Every page's ``Items``, following ``NextPageLink`` until it is null or a page is
    empty (both are how the API ends a listing)."""
    client = retail_prices_client()
    base = _endpoint(client)
    url = _first_url(base, odata_filter, currency)
    seen: set[str] = set()
    while url:
        if url in seen or len(seen) >= MAX_PAGES:
            raise RetailPricesError(
                "PagingLoop", f"The price listing did not end after {len(seen)} pages."
            )
        seen.add(url)
        # The pipeline's transport carries the gateway's connect and read timeouts.
        response = client.send_request(HttpRequest("GET", url))
        response.raise_for_status()
        try:
            body = json.loads(response.text(), parse_float=Decimal)
        except ValueError as exc:
            raise RetailPricesError("InvalidResponse", "the answer is not JSON.") from exc
        items = body.get("Items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise RetailPricesError("InvalidResponse", "the answer has no list of Items.")
        yield items
        link = body.get("NextPageLink") or ""
        if not items or not link:
            return
        if not isinstance(link, str) or not _same_host(link, base):
            raise RetailPricesError(
                "InvalidResponse", f"the next page is on another host: {str(link)[:200]}"
            )
        url = link


def _endpoint(client: Any) -> str:
    return str(client._base_url).rstrip("/")


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value)


def price_from_raw(raw: Mapping[str, Any]) -> RetailPrice:
    product = _text(raw, "productName")
    service = _text(raw, "serviceName")
    os_type = ""
    if service == VM_SERVICE:
        os_type = WINDOWS if " Windows" in product else LINUX
    return RetailPrice(
        service_name=service,
        product_name=product,
        sku_name=_text(raw, "skuName"),
        meter_name=_text(raw, "meterName"),
        meter_id=_text(raw, "meterId"),
        arm_sku_name=_text(raw, "armSkuName"),
        region=_text(raw, "armRegionName"),
        location=_text(raw, "location"),
        unit_price=_decimal(raw.get("unitPrice")),
        retail_price=_decimal(raw.get("retailPrice")),
        currency=_text(raw, "currencyCode"),
        unit_of_measure=_text(raw, "unitOfMeasure"),
        price_type=_text(raw, "type"),
        os_type=os_type,
        effective_start=moment(raw.get("effectiveStartDate")),
        is_primary_meter_region=raw.get("isPrimaryMeterRegion") is not False,
        tier_minimum_units=_decimal(raw.get("tierMinimumUnits")),
    )


def _query(odata_filter: str, currency: str, price_type: str) -> list[RetailPrice]:
    found = []
    for items in _pages(odata_filter, currency):
        for raw in items:
            if not isinstance(raw, dict):
                continue
            price = price_from_raw(raw)
            if price.price_type == price_type:  # the filter asked; the type decides
                found.append(price)
    return found


@_prices_call
def retail_prices(
    *,
    service: str,
    region: str | None = None,
    sku_names: Sequence[str] | None = None,
    currency: str = "USD",
    price_type: str = CONSUMPTION,
) -> list[RetailPrice]:
    """Every item of ``service`` (``"Virtual Machines"``, ``"Storage"``) of ``price_type`` in
    ``region`` (all regions when None) for the ``armSkuName``s given (all when None), in
    ``currency``, following every page. Spot and Low Priority meters are included: they are
    ``Consumption`` items too (:func:`vm_prices` drops them)."""
    names = list(dict.fromkeys(sku_names or []))
    if sku_names is not None and not names:
        return []
    chunks = [names[i : i + SIZES_PER_QUERY] for i in range(0, len(names), SIZES_PER_QUERY)]
    found: list[RetailPrice] = []
    for chunk in chunks or [[]]:
        odata_filter = build_filter(
            service=service, region=region, sku_names=chunk or None, price_type=price_type
        )
        found.extend(_query(odata_filter, currency, price_type))
    return found


def _preferred(current: RetailPrice | None, candidate: RetailPrice) -> RetailPrice:
    """A primary meter region first, then the latest effective date."""
    if current is None:
        return candidate

    def rank(p: RetailPrice) -> tuple[bool, datetime]:
        return (p.is_primary_meter_region, p.effective_start or datetime.min)

    return candidate if rank(candidate) > rank(current) else current


@_prices_call
def vm_prices(region: str, sizes: Iterable[str], *, currency: str = "USD") -> ComputePrices:
    """Pay-as-you-go hourly compute prices of ``sizes`` in ``region`` for Linux and Windows,
    in one query per ``SIZES_PER_QUERY`` sizes (one for a normal region)."""
    wanted = list(dict.fromkeys(s for s in sizes if s))
    chosen: dict[tuple[str, str], RetailPrice] = {}
    if wanted:
        for price in retail_prices(
            service=VM_SERVICE, region=region, sku_names=wanted, currency=currency
        ):
            if price.is_spot_or_low_priority or price.hourly is None or price.unit_price <= 0:
                continue
            key = (price.arm_sku_name.lower(), price.os_type)
            chosen[key] = _preferred(chosen.get(key), price)
    priced = {size for size, _ in chosen}
    return ComputePrices(
        region=region.lower(),
        currency=currency.upper(),
        prices=chosen,
        missing=tuple(s for s in wanted if s.lower() not in priced),
    )


@_prices_call
def disk_prices(region: str, *, currency: str = "USD") -> dict[str, RetailPrice]:
    """Monthly prices of managed disk tiers in ``region``, keyed by SKU name (``"P10 LRS"``,
    ``"E10 LRS"``, ``"S10 LRS"``): the ``… Disk`` meters billed per month (transaction meters
    and placeholders at 0 are left out)."""
    odata_filter = build_filter(service=STORAGE_SERVICE, region=region, product_names=DISK_PRODUCTS)
    found: dict[str, RetailPrice] = {}
    for price in _query(odata_filter, currency, CONSUMPTION):
        if price.unit_of_measure != "1/Month" or not price.meter_name.endswith(" Disk"):
            continue
        if price.unit_price <= 0:
            continue
        found[price.sku_name] = _preferred(found.get(price.sku_name), price)
    return found
