"""The Azure Retail Prices API (``GET https://prices.azure.com/api/retail/prices``).

A public, unauthenticated API outside Resource Manager, emulated so the waste figures of the
dashboard run the real gateway code against the seeded sizes and regions. The price list is
``retail_prices_data.catalog()``; the ``$filter`` grammar is ``retail_prices_odata``. The
reply has the real envelope::

    {"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
     "Items": [...], "NextPageLink": "https://prices.azure.com:443/api/retail/prices?...&$skip=1000",
     "Count": 1000}

Query parameters, as the real API takes them: ``$filter``; ``currencyCode='EUR'`` (quoted;
converted at fixed *illustrative* rates, ``CURRENCY_RATES``); ``api-version`` (optional;
``2023-01-01-preview`` adds ``savingsPlan`` to the items that have one and makes filter
values case-sensitive — which the doc says unversioned calls now are too); ``meterRegion=
'primary'``; ``$skip``. Pages hold at most ``page_size`` items (1,000 as the API documents
today; the emulator's ``prices_page_size`` makes it small for tests). ``NextPageLink`` is
absolute, repeats the query and sets ``$skip``; it is ``null`` on the last page. Sources
of each behaviour: docs/emulator-fidelity.md, "Retail Prices API".

Faults queued or set on the emulator apply here as to ARM (``Emulator.handle`` picks them
before this module answers).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from . import retail_prices_data, retail_prices_odata
from .errors import ArmError
from .wire import ArmRequest, Response

PRICES_HOST = "https://prices.azure.com"
PRICES_HOSTNAME = "prices.azure.com"
PATH = "/api/retail/prices"
DEFAULT_PAGE_SIZE = 1000
SKIP = "$skip"
#: The api-version with savings plans and case-sensitive filter values.
PREVIEW_VERSION = "2023-01-01-preview"
#: api-versions named by the doc and public clients; any other is served as if none was
#: given (what the real API does with an unknown one is not documented).
API_VERSIONS = ("2021-10-01", "2021-10-01-preview", PREVIEW_VERSION)

#: USD -> currency, fixed and ILLUSTRATIVE (rounded mid-2025 market rates): the real API
#: converts at Microsoft's own monthly rates. The currencies are the API's supported list.
CURRENCY_RATES: dict[str, float] = {
    "USD": 1.0,
    "AUD": 1.53,
    "BRL": 5.5,
    "CAD": 1.37,
    "CHF": 0.8,
    "CNY": 7.2,
    "DKK": 6.4,
    "EUR": 0.86,
    "GBP": 0.74,
    "INR": 86.0,
    "JPY": 146.0,
    "KRW": 1380.0,
    "NOK": 10.1,
    "NZD": 1.67,
    "RUB": 79.0,
    "SEK": 9.6,
    "TWD": 29.5,
}


def serves(req: ArmRequest) -> bool:
    """Whether the request is for the Retail Prices API (on its own host, or on whatever
    host a local server forwards it from: the path is not an ARM path)."""
    return req.path.lower() == PATH and req.origin != "https://management.azure.com"


def _bad_request(message: str) -> ArmError:
    # The real API's 400 body is not documented; ARM's envelope is used (invented).
    return ArmError(400, "BadRequest", message)


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


def _currency(req: ArmRequest) -> str:
    code = _unquoted(req.query.get("currencycode", "")).upper() or "USD"
    if code not in CURRENCY_RATES:
        raise _bad_request(f"The currency code '{code}' is not supported.")
    return code


def _skip(req: ArmRequest) -> int:
    raw = req.query.get(SKIP, "0").strip() or "0"
    if not raw.isdigit():
        raise _bad_request(f"The value '{raw}' of $skip is not a non-negative integer.")
    return int(raw)


def _origin(req: ArmRequest) -> str:
    """The real API names its default port in ``NextPageLink`` (``prices.azure.com:443``)."""
    if req.origin == PRICES_HOST:
        return f"{PRICES_HOST}:443"
    return req.origin or f"{PRICES_HOST}:443"


def next_page_link(req: ArmRequest, skip: int) -> str:
    pairs = [
        (k, v) for k, v in parse_qsl(req.raw_query, keep_blank_values=True) if k.lower() != SKIP
    ]
    pairs.append((SKIP, str(skip)))
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in pairs)
    return f"{_origin(req)}{PATH}?{query}"


def _convert(item: dict[str, Any], currency: str, with_savings: bool) -> dict[str, Any]:
    out = dict(item)
    rate = CURRENCY_RATES[currency]
    if currency != "USD":
        out["currencyCode"] = currency
        out["retailPrice"] = round(item["retailPrice"] * rate, 6)
        out["unitPrice"] = round(item["unitPrice"] * rate, 6)
    if with_savings:
        plan = retail_prices_data.savings_plan(item)
        if plan is not None:
            out["savingsPlan"] = [
                {
                    **p,
                    "unitPrice": round(p["unitPrice"] * rate, 6),
                    "retailPrice": round(p["retailPrice"] * rate, 6),
                }
                for p in plan
            ]
    return out


def answer(req: ArmRequest, page_size: int) -> Response:
    """One page of prices, or a 400/404/405 error envelope (raised as ArmError)."""
    if req.method != "GET":
        raise ArmError(
            405, "MethodNotAllowed", f"The requested method '{req.method}' is not allowed."
        )
    version = req.api_version or ""
    known = version in API_VERSIONS
    preview = version == PREVIEW_VERSION
    # Older versions compared values case-insensitively; the preview and (per the doc)
    # unversioned calls compare them exactly.
    case_sensitive = preview or not known
    currency = _currency(req)
    skip = _skip(req)
    try:
        predicate = retail_prices_odata.parse(
            req.query.get("$filter", ""), case_sensitive=case_sensitive
        )
    except retail_prices_odata.FilterError as exc:
        raise _bad_request(f"Invalid OData $filter: {exc}") from exc
    primary_only = _unquoted(req.query.get("meterregion", "")).lower() == "primary"
    matched = []
    for item in retail_prices_data.catalog():
        converted = _convert(item, currency, with_savings=preview)
        if primary_only and not converted["isPrimaryMeterRegion"]:
            continue
        if predicate(converted):
            matched.append(converted)
    size = max(1, int(page_size))
    page = matched[skip : skip + size]
    more = skip + size < len(matched)
    payload = {
        "BillingCurrency": currency,
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": page,
        "NextPageLink": next_page_link(req, skip + size) if more else None,
        "Count": len(page),
    }
    return Response(
        200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(payload).encode()
    )


def host_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
