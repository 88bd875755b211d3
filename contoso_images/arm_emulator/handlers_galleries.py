"""Azure Compute Gallery: galleries and image definitions (versions are in
``handlers_gallery_versions``). PUTs answer 201 ``Creating`` + Azure-AsyncOperation."""

from __future__ import annotations

from typing import Any

from . import errors, lro, resources, validate
from .lookup import (
    KIND_GALLERY,
    KIND_GALLERY_IMAGE,
    KIND_GALLERY_VERSION,
    TYPE_NAMES,
    require_rg,
)
from .state import Resource, get_resource, page_resources
from .wire import ArmRequest, Ctx, Response


def resource_id(sub: str, rg: str, *segments: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/" + "/".join(
        segments
    )


def _has_children(conn: Any, kind: str, sub: str, rg: str, parent: str) -> bool:
    return bool(page_resources(conn, kind, sub, rg=rg, parent=parent, limit=1))


def _childless(kind: str, sub: str, rg: str, parent: str) -> resources.Guard:
    """A delete guard: 409 while ``parent`` has children of ``kind``. It runs inside the
    deleting transaction, so a child PUT cannot slip in between the check and the delete."""

    def guard(conn: Any) -> None:
        if _has_children(conn, kind, sub, rg, parent):
            raise errors.nested_resources_exist()

    return guard


def require_live_parent(parent: Resource) -> None:
    """Refuse to create a child under a parent whose deletion is pending: the child would
    be orphaned when the parent's row goes (409 Conflict; Azure's exact answer is
    unverified)."""
    if parent.emu.get("deleting"):
        raise errors.concurrent_conflict()


# --- galleries ------------------------------------------------------------------------


def gallery_put(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    validate.gallery_name(gallery)
    payload, location, props = validate.put_body(req)
    with lro.writing(ctx) as conn:
        rg_name = require_rg(conn, sub, rg)
        existing = get_resource(conn, KIND_GALLERY, sub, rg, gallery)
        if existing is not None:
            if "description" in props:
                existing.body["properties"]["description"] = props["description"]
            return resources.updated(conn, existing, payload)
        body = gallery_body(
            sub,
            rg_name,
            gallery,
            location,
            props.get("description"),
            validate.tags(payload),
            "Creating",
        )
        return resources.created(
            ctx,
            req,
            conn,
            kind=KIND_GALLERY,
            sub=sub,
            rg=rg,
            name=gallery,
            body=body,
            duration=ctx.durations["gallery_create"],
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
    return resources.get(ctx, KIND_GALLERY, sub, rg, gallery)


def gallery_list_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_GALLERY, sub, rg)


def gallery_list(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_GALLERY, sub)


def gallery_delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    guard = _childless(KIND_GALLERY_IMAGE, sub, rg, gallery)
    return resources.delete(ctx, req, KIND_GALLERY, sub, rg, gallery, guard=guard)


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
    payload, location, props = validate.put_body(req)
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
            return resources.updated(conn, existing, payload)
        require_live_parent(gal)
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
        return resources.created(
            ctx,
            req,
            conn,
            kind=KIND_GALLERY_IMAGE,
            sub=sub,
            rg=rg,
            name=image,
            parent=gallery,
            body=body,
            duration=ctx.durations["gallery_create"],
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
    require_gallery(ctx.store.conn(), sub, rg, gallery)
    return resources.get(ctx, KIND_GALLERY_IMAGE, sub, rg, image, gallery)


def definition_list(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    require_gallery(ctx.store.conn(), sub, rg, gallery)
    return resources.list_in_group(ctx, req, KIND_GALLERY_IMAGE, sub, rg, parent=gallery)


def definition_delete(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    no_versions = _childless(KIND_GALLERY_VERSION, sub, rg, f"{gallery}/{image}")

    def guard(conn: Any) -> None:
        require_gallery(conn, sub, rg, gallery)
        no_versions(conn)

    return resources.delete(ctx, req, KIND_GALLERY_IMAGE, sub, rg, image, gallery, guard=guard)
