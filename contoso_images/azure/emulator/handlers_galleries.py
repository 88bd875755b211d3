"""Azure Compute Gallery: galleries and image definitions (versions are in
``handlers_gallery_versions``). PUTs answer 201 ``Creating`` + Azure-AsyncOperation."""

from __future__ import annotations

from typing import Any

from . import catalog, errors, lro, validate
from .handlers_images import delete_resource_lro
from .lookup import (
    KIND_GALLERY,
    KIND_GALLERY_IMAGE,
    KIND_GALLERY_VERSION,
    TYPE_NAMES,
    require,
    require_rg,
    require_sub,
)
from .paging import paged
from .state import Resource, get_resource, insert_resource, page_resources, save_resource
from .wire import ArmRequest, Ctx, Response, json_response

GALLERY_API_VERSION = "2026-03-03"


def resource_id(sub: str, rg: str, *segments: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/" + "/".join(
        segments
    )


def created_response(
    ctx: Ctx,
    req: ArmRequest,
    conn: Any,
    kind: str,
    sub: str,
    rg: str,
    name: str,
    parent: str,
    body: dict[str, Any],
    emu: dict[str, Any],
    duration: float,
) -> Response:
    """Insert a new resource in ``Creating`` and answer 201 + Azure-AsyncOperation."""
    seq = insert_resource(conn, kind, sub, rg, name, body, emu, parent)
    op = lro.start(
        conn,
        ctx,
        sub=sub,
        location=catalog.normalize_region(body["location"]),
        kind="resource_ready",
        resource_seq=seq,
        duration=duration,
    )
    res = require(conn, kind, sub, rg, name, parent)
    res.emu["op"] = {"id": op.id, "kind": kind + "_create", "until": op.due}
    save_resource(conn, res)
    head = lro.headers(op, req.api_version or GALLERY_API_VERSION)
    head.pop("Location")
    return json_response(201, body, head)


def render(res: Resource) -> dict[str, Any]:
    body = dict(res.body)
    if res.emu.get("deleting"):
        body["properties"] = {**body["properties"], "provisioningState": "Deleting"}
    return body


def _has_children(conn: Any, kind: str, sub: str, rg: str, parent: str) -> bool:
    return bool(page_resources(conn, kind, sub, rg=rg, parent=parent, limit=1))


# --- galleries ------------------------------------------------------------------------


def gallery_put(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    validate.gallery_name(gallery)
    payload = req.json()
    location = catalog.normalize_region(validate.location(payload))
    props = validate.obj(payload, "properties")
    with lro.writing(ctx) as conn:
        rg_name = require_rg(conn, sub, rg)
        existing = get_resource(conn, KIND_GALLERY, sub, rg, gallery)
        if existing is not None:
            if "description" in props:
                existing.body["properties"]["description"] = props["description"]
            existing.body["tags"] = validate.tags(payload)
            save_resource(conn, existing)
            return json_response(200, render(existing))
        body = gallery_body(
            sub,
            rg_name,
            gallery,
            location,
            props.get("description"),
            validate.tags(payload),
            "Creating",
        )
        return created_response(
            ctx,
            req,
            conn,
            KIND_GALLERY,
            sub,
            rg,
            gallery,
            "",
            body,
            {"op": None},
            ctx.durations["gallery_create"],
        )


def gallery_body(
    sub: str,
    rg: str,
    gallery: str,
    location: str,
    description: str | None,
    tags: dict[str, str],
    state: str,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "identifier": {"uniqueName": f"{sub}-{gallery.upper()}"},
        "provisioningState": state,
    }
    if description:
        props = {"description": description, **props}
    return {
        "id": resource_id(sub, rg, "galleries", gallery),
        "name": gallery,
        "type": TYPE_NAMES[KIND_GALLERY],
        "location": location,
        "tags": tags,
        "properties": props,
    }


def gallery_get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    return json_response(200, render(require(ctx.store.conn(), KIND_GALLERY, sub, rg, gallery)))


def gallery_list_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    conn = ctx.store.conn()
    require_rg(conn, sub, rg)
    return paged(
        ctx,
        req,
        lambda a, n: page_resources(conn, KIND_GALLERY, sub, rg=rg, after=a, limit=n),
        render,
    )


def gallery_list(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    conn = ctx.store.conn()
    require_sub(conn, sub)
    return paged(
        ctx, req, lambda a, n: page_resources(conn, KIND_GALLERY, sub, after=a, limit=n), render
    )


def gallery_delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    if _has_children(ctx.store.conn(), KIND_GALLERY_IMAGE, sub, rg, gallery):
        raise errors.nested_resources_exist()
    return delete_resource_lro(ctx, req, KIND_GALLERY, sub, rg, gallery)


# --- image definitions ----------------------------------------------------------------


def require_gallery(conn: Any, sub: str, rg: str, gallery: str) -> Resource:
    require_rg(conn, sub, rg)
    res = get_resource(conn, KIND_GALLERY, sub, rg, gallery)
    if res is None:
        raise errors.parent_not_found(gallery)
    return res


def definition_put(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    validate.definition_name(image)
    payload = req.json()
    location = catalog.normalize_region(validate.location(payload))
    props = validate.obj(payload, "properties")
    ident = validate.obj(props, "identifier")
    for key in ("publisher", "offer", "sku"):
        if not isinstance(ident.get(key), str) or not ident[key]:
            raise errors.invalid_parameter(
                f"The 'identifier.{key}' property is required.", target=f"identifier.{key}"
            )
    os_type = validate.choice(props.get("osType"), ("Windows", "Linux"), "osType")
    os_state = validate.choice(props.get("osState"), ("Generalized", "Specialized"), "osState")
    generation = validate.choice(
        props.get("hyperVGeneration"), ("V1", "V2"), "hyperVGeneration", "V1"
    )
    arch = validate.choice(props.get("architecture"), ("x64", "Arm64"), "architecture", "x64")
    with lro.writing(ctx) as conn:
        gal = require_gallery(conn, sub, rg, gallery)
        existing = get_resource(conn, KIND_GALLERY_IMAGE, sub, rg, image, gallery)
        if existing is not None:
            existing.body["tags"] = validate.tags(payload)
            save_resource(conn, existing)
            return json_response(200, render(existing))
        rg_name = gal.body["id"].split("/")[4]
        body = definition_body(
            sub,
            rg_name,
            gal.body["name"],
            image,
            location,
            validate.tags(payload),
            identifier={k: ident[k] for k in ("publisher", "offer", "sku")},
            os_type=os_type,
            os_state=os_state,
            generation=generation,
            architecture=arch,
            description=props.get("description"),
            state="Creating",
        )
        return created_response(
            ctx,
            req,
            conn,
            KIND_GALLERY_IMAGE,
            sub,
            rg,
            image,
            gallery,
            body,
            {"op": None},
            ctx.durations["gallery_create"],
        )


def definition_body(
    sub: str,
    rg: str,
    gallery: str,
    image: str,
    location: str,
    tags: dict[str, str],
    *,
    identifier: dict[str, str],
    os_type: str,
    os_state: str,
    generation: str,
    architecture: str,
    description: str | None,
    state: str,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "identifier": identifier,
        "osType": os_type,
        "osState": os_state,
        "hyperVGeneration": generation,
        "architecture": architecture,
        "provisioningState": state,
    }
    if description:
        props["description"] = description
    if generation == "V2":
        props["features"] = [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
    return {
        "id": resource_id(sub, rg, "galleries", gallery, "images", image),
        "name": image,
        "type": TYPE_NAMES[KIND_GALLERY_IMAGE],
        "location": location,
        "tags": tags,
        "properties": props,
    }


def definition_get(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    conn = ctx.store.conn()
    require_gallery(conn, sub, rg, gallery)
    return json_response(200, render(require(conn, KIND_GALLERY_IMAGE, sub, rg, image, gallery)))


def definition_list(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    conn = ctx.store.conn()
    require_gallery(conn, sub, rg, gallery)
    return paged(
        ctx,
        req,
        lambda a, n: page_resources(
            conn, KIND_GALLERY_IMAGE, sub, rg=rg, parent=gallery, after=a, limit=n
        ),
        render,
    )


def definition_delete(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    conn = ctx.store.conn()
    require_gallery(conn, sub, rg, gallery)
    if _has_children(conn, KIND_GALLERY_VERSION, sub, rg, f"{gallery}/{image}"):
        raise errors.nested_resources_exist()
    return delete_resource_lro(ctx, req, KIND_GALLERY_IMAGE, sub, rg, image, gallery)
