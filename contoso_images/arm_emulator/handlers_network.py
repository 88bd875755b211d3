"""Microsoft.Network, as far as creating and deleting VMs needs it: virtual networks and
their subnets (read), network interfaces (read, create, delete).

Reached by ``azure-mgmt-network`` on the same ARM host as Compute. Long-running Network
operations poll ``…/providers/Microsoft.Network/locations/{loc}/operations/{id}`` (status
``{"status": …}``) and ``…/operationResults/{id}`` (202 until done), the URL shapes Network
uses; a NIC still used by a VM refuses deletion with Network's 400 ``NicInUse``.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote

from . import errors, lro, resources, validate
from .lookup import require_rg
from .network_model import (
    KIND_NIC,
    KIND_VNET,
    ip_configuration,
    network_id,
    next_address,
    nic_body,
    nic_in_use,
    require_subnet,
)
from .state import Resource, get_resource, insert_resource, save_resource
from .wire import ARM_HOST, ArmRequest, Ctx, Response, json_response


def _require(conn: sqlite3.Connection, kind: str, sub: str, rg: str, name: str) -> Resource:
    require_rg(conn, sub, rg)
    res = get_resource(conn, kind, sub, rg, name)
    if res is None:
        collection = "virtualNetworks" if kind == KIND_VNET else "networkInterfaces"
        raise errors.resource_not_found(f"Microsoft.Network/{collection}/{name}", rg)
    return res


def headers(op: lro.Operation, api_version: str) -> dict[str, str]:
    """Network's async headers: ``operations/{id}`` to poll, ``operationResults/{id}`` as
    the Location."""
    base = (
        f"{ARM_HOST}/subscriptions/{op.sub}/providers/Microsoft.Network/locations/"
        f"{quote(op.location)}"
    )
    v = quote(api_version)
    return {
        "Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={v}",
        "Location": f"{base}/operationResults/{op.id}?api-version={v}",
        "Retry-After": "1",
        "x-ms-request-id": op.id,
    }


def operation_status(ctx: Ctx, req: ArmRequest, sub: str, location: str, op_id: str) -> Response:
    """``{"status": "InProgress" | "Succeeded" | "Failed", "error"?}``."""
    op = lro.get(ctx.store.conn(), op_id)
    if op is None or op.sub != sub.lower():
        raise errors.operation_not_found(op_id)
    body: dict[str, Any] = {"status": op.status if op.settled else "InProgress"}
    if op.error:
        body["error"] = op.error
    return json_response(200, body, {} if op.settled else {"Retry-After": "1"})


def operation_result(ctx: Ctx, req: ArmRequest, sub: str, location: str, op_id: str) -> Response:
    """The Location URL: 202 while the operation runs, then 204 (a DELETE has no body)."""
    op = lro.get(ctx.store.conn(), op_id)
    if op is None or op.sub != sub.lower():
        raise errors.operation_not_found(op_id)
    if not op.settled:
        return Response(202, {"Location": f"{ARM_HOST}{req.path_and_query}", "Retry-After": "1"})
    if op.error:
        raise errors.ArmError(500, op.error["code"], op.error["message"])
    return Response(204, {}, b"")


# --- virtual networks and subnets ---------------------------------------------------------


def vnet_list_all(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_VNET, sub)


def vnet_list(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_VNET, sub, rg)


def vnet_get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vnet: str) -> Response:
    return json_response(200, _require(ctx.store.conn(), KIND_VNET, sub, rg, vnet).body)


def subnet_list(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vnet: str) -> Response:
    res = _require(ctx.store.conn(), KIND_VNET, sub, rg, vnet)
    return json_response(200, {"value": res.body["properties"]["subnets"]})


def subnet_get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vnet: str, subnet: str) -> Response:
    res = _require(ctx.store.conn(), KIND_VNET, sub, rg, vnet)
    for item in res.body["properties"]["subnets"]:
        if item["name"].lower() == subnet.lower():
            return json_response(200, item)
    raise errors.resource_not_found(
        f"Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}", rg
    )


# --- network interfaces -------------------------------------------------------------------


def nic_list_all(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_NIC, sub)


def nic_list(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_NIC, sub, rg)


def nic_get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, nic: str) -> Response:
    return json_response(200, resources.render(_require(ctx.store.conn(), KIND_NIC, sub, rg, nic)))


def create_nic(
    conn: sqlite3.Connection,
    *,
    sub: str,
    rg: str,
    name: str,
    location: str,
    ip_configurations: list[dict[str, Any]],
    vm_id: str | None = None,
    accelerated: bool = False,
    ip_forwarding: bool = False,
    tags: dict[str, str] | None = None,
    nsg_id: str | None = None,
) -> dict[str, Any]:
    """Store a NIC whose ``ip_configurations`` are ``[{name, properties: {subnet: {id},
    primary?, privateIPAddressVersion?}}]`` (the shape of a NIC PUT and of a VM's
    ``networkInterfaceConfigurations``): every subnet must exist in ``location``."""
    rid = network_id(sub, rg, "networkInterfaces", name)
    configs = []
    for i, config in enumerate(ip_configurations):
        props = validate.obj(config, "properties")
        subnet_id = validate.obj(props, "subnet").get("id")
        if not isinstance(subnet_id, str) or not subnet_id:
            raise errors.invalid_parameter(
                "The 'subnet.id' of every IP configuration is required.",
                target="ipConfigurations.subnet",
            )
        vnet, subnet = require_subnet(conn, subnet_id, location, rid)
        configs.append(
            ip_configuration(
                rid,
                str(config.get("name") or f"ipconfig{i + 1}"),
                subnet["id"],
                next_address(conn, vnet, subnet),
                primary=bool(props.get("primary", i == 0)),
                version=str(props.get("privateIPAddressVersion") or "IPv4"),
            )
        )
    if not configs:
        raise errors.invalid_parameter(
            "A network interface needs at least one IP configuration.", target="ipConfigurations"
        )
    body = nic_body(
        sub,
        rg,
        name,
        location,
        configs,
        accelerated=accelerated,
        ip_forwarding=ip_forwarding,
        vm_id=vm_id,
        tags=tags,
        nsg_id=nsg_id,
    )
    insert_resource(conn, KIND_NIC, sub, rg, name, body, {"op": None})
    return body


def nic_put(ctx: Ctx, req: ArmRequest, sub: str, rg: str, nic: str) -> Response:
    """Create a NIC (201 + Azure-AsyncOperation, ``Succeeded`` at once, as the specification's
    example shows); a PUT on an existing one replaces its tags (200)."""
    payload, location, props = validate.put_body(req)
    with lro.writing(ctx) as conn:
        rg_name = require_rg(conn, sub, rg)
        existing = get_resource(conn, KIND_NIC, sub, rg, nic)
        if existing is not None:
            existing.body = {**existing.body, **resources.tags_of(payload, existing.body)}
            save_resource(conn, existing)
            return json_response(200, existing.body)
        validate.compute_location(location, "Microsoft.Network/networkInterfaces")
        nsg = validate.obj(props, "networkSecurityGroup").get("id")
        body = create_nic(
            conn,
            sub=sub,
            rg=rg_name,
            name=nic,
            location=location,
            ip_configurations=list(props.get("ipConfigurations") or []),
            accelerated=bool(props.get("enableAcceleratedNetworking", False)),
            ip_forwarding=bool(props.get("enableIPForwarding", False)),
            tags=validate.tags(payload) or None,
            nsg_id=nsg if isinstance(nsg, str) and nsg else None,
        )
        res = get_resource(conn, KIND_NIC, sub, rg, nic)
        assert res is not None
        op = lro.start(conn, ctx, req, res, kind="network_ready", op_key="nic_create", duration=0)
        head = headers(op, req.api_version or "")
        head.pop("Location")
    return json_response(201, body, head)


def nic_delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, nic: str) -> Response:
    """202 + Network's async headers; a NIC a VM still uses: 400 NicInUse; a missing one:
    204."""
    with lro.writing(ctx) as conn:
        require_rg(conn, sub, rg)
        res = get_resource(conn, KIND_NIC, sub, rg, nic)
        if res is None:
            return Response(204, {}, b"")
        vm = (res.body["properties"].get("virtualMachine") or {}).get("id")
        if vm:
            raise nic_in_use(res.body["id"], vm)
        if res.emu.get("op") and not res.emu.get("deleting"):
            raise errors.concurrent_conflict()
        op = resources.begin_delete(conn, ctx, req, res)
    return Response(202, headers(op, req.api_version or ""), b"")


@lro.effect("network_ready")
def _settle_ready(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    resources.release(conn, op)
