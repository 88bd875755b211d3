"""Marketplace terms (``Microsoft.MarketplaceOrdering``): whether a subscription accepted the
legal terms of a plan, which a VM from a Marketplace image with a plan needs.

``GET``/``PUT …/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/
{publisher}/offers/{offer}/plans/{plan}/agreements/current`` is what ``az vm image terms
show|accept`` call (MarketplaceOrdering specification, api-version 2021-01-01); a PUT with
``properties.accepted: true`` accepts. Agreements are stored per subscription as resources
of their own kind, so a reseed forgets them like every other resource.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import clock, validate
from .lookup import require_sub
from .state import get_resource, insert_resource, save_resource
from .wire import ArmRequest, Ctx, Response, json_response

KIND_AGREEMENT = "agreement"
# MarketplaceOrdering registers these (2021-01-01 is the current stable one).
VERSIONS = ["2021-01-01", "2015-06-01"]


def _key(publisher: str, offer: str, plan: str) -> str:
    return f"{publisher}/{offer}/{plan}".lower()


def is_accepted(conn: sqlite3.Connection, sub: str, publisher: str, offer: str, plan: str) -> bool:
    res = get_resource(conn, KIND_AGREEMENT, sub, "", _key(publisher, offer, plan))
    return bool(res and res.body["properties"]["accepted"])


def set_accepted(
    conn: sqlite3.Connection,
    sub: str,
    publisher: str,
    offer: str,
    plan: str,
    accepted: bool,
    now: float,
) -> dict[str, Any]:
    """Record the subscription's answer to a plan's terms; returns the agreement body."""
    body = _body(sub, publisher, offer, plan, accepted, now)
    key = _key(publisher, offer, plan)
    res = get_resource(conn, KIND_AGREEMENT, sub, "", key)
    if res is None:
        insert_resource(conn, KIND_AGREEMENT, sub, "", key, body, {})
    else:
        res.body = body
        save_resource(conn, res)
    return body


def _body(
    sub: str, publisher: str, offer: str, plan: str, accepted: bool, now: float
) -> dict[str, Any]:
    """The ``AgreementTerms`` shape of the specification's examples."""
    base = "https://storelegalterms.blob.core.windows.net/legalterms/3E5ED"
    return {
        "id": f"/subscriptions/{sub}/providers/Microsoft.MarketplaceOrdering/offerTypes/"
        f"VirtualMachine/publishers/{publisher}/offers/{offer}/plans/{plan}/agreements/current",
        "name": plan,
        "type": "Microsoft.MarketplaceOrdering/offertypes",
        "properties": {
            "publisher": publisher,
            "product": offer,
            "plan": plan,
            "licenseTextLink": f"{base}_legalterms_{publisher.upper()}.txt",
            "privacyPolicyLink": f"https://{publisher.lower()}.example/privacy",
            "marketplaceTermsLink": "https://mpcprodsa.blob.core.windows.net/"
            "marketplaceterms/3EDEF_marketplaceterms_VIRTUALMACHINE.txt",
            "retrieveDatetime": clock.iso(now),
            "signature": "EMULATED" + _key(publisher, offer, plan).upper().replace("/", ""),
            "accepted": accepted,
        },
    }


def get(
    ctx: Ctx, req: ArmRequest, sub: str, offer_type: str, publisher: str, offer: str, plan: str
) -> Response:
    conn = ctx.store.conn()
    require_sub(conn, sub)
    res = get_resource(conn, KIND_AGREEMENT, sub, "", _key(publisher, offer, plan))
    if res is not None:
        return json_response(200, res.body)
    return json_response(200, _body(sub, publisher, offer, plan, False, ctx.now))


def put(
    ctx: Ctx, req: ArmRequest, sub: str, offer_type: str, publisher: str, offer: str, plan: str
) -> Response:
    props = validate.obj(req.json(), "properties")
    with ctx.store.write() as conn:
        require_sub(conn, sub)
        body = set_accepted(conn, sub, publisher, offer, plan, bool(props.get("accepted")), ctx.now)
    return json_response(200, body)
