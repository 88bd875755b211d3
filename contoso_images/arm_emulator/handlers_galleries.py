"""Azure Compute Gallery: galleries and image definitions (versions are in
``handlers_gallery_versions``).

A PUT that creates answers 201 ``Creating``; a PUT or PATCH on an existing one answers
200 ``Updating`` with the change applied; both carry a ``capsOperations``
Azure-AsyncOperation header. Properties fixed at creation (a definition's OS type and
state, generation, architecture, publisher/offer/SKU) refuse to change. Deleting a
gallery or definition that still has children is refused with the ids of a few of them.
"""

from __future__ import annotations

from typing import Any

from . import errors, lro, resources, validate, versions
from .lookup import (
    KIND_GALLERY,
    KIND_GALLERY_IMAGE,
    KIND_GALLERY_VERSION,
    TYPE_NAMES,
    require,
    require_rg,
    resource_path,
)
from .state import Resource, get_resource, page_resources
from .wire import ArmRequest, Ctx, Response

CHILDREN_LISTED = 5


def resource_id(sub: str, rg: str, *segments: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/" + "/".join(
        segments
    )


def _children(conn: Any, kind: str, sub: str, rg: str, parent: str) -> list[Resource]:
    return page_resources(conn, kind, sub, rg=rg, parent=parent, limit=CHILDREN_LISTED)


def _childless(kind: str, sub: str, rg: str, parent: str) -> resources.Guard:
    """A delete guard: 409 while ``parent`` has children of ``kind``. It runs inside the
    deleting transaction, so a child PUT cannot slip in between the check and the delete."""

    def guard(conn: Any) -> None:
        children = _children(conn, kind, sub, rg, parent)
        if children:
            raise errors.nested_resources_exist(
                [resource_path(kind, c.body["name"], parent) for c in children]
            )

    return guard


def require_live_parent(parent: Resource) -> None:
    """Refuse to create a child under a parent whose deletion is pending: the child would
    be orphaned when the parent's row goes (409 Conflict; Azure's answer is not known)."""
    if parent.emu.get("deleting"):
        raise errors.concurrent_conflict()


def _update_duration(ctx: Ctx) -> float:
    return ctx.durations["gallery_update"]


# --- galleries ------------------------------------------------------------------------


def unique_name(sub: str, rg: str, gallery: str) -> str:
    """``<subscription id>-<GALLERY NAME IN UPPER CASE>``, nothing appended: the spec's
    Gallery_Get example (``{subscription-id}-MYGALLERYNAME``) and the recordings, whose
    ``-GALLERY_MDZEM5ICZAWX`` is the random *name* ``gallery_mdzem5iczawx`` upper-cased
    (test_gallery_e2e creates ``create_random_name('gallery_', 24)``)."""
    del rg  # not part of it: a gallery name is unique within the subscription
    return f"{sub}-{gallery.upper()}"


def gallery_body(
    sub: str,
    rg: str,
    gallery: str,
    location: str,
    description: str | None,
    tags: dict[str, Any],
    state: str,
) -> dict[str, Any]:
    """``tags`` is ``{"tags": {...}}`` or ``{}`` (see ``resources.tags_of``)."""
    props: dict[str, Any] = {}
    if description:
        props["description"] = description
    props["identifier"] = {"uniqueName": unique_name(sub, rg, gallery)}
    props["provisioningState"] = state
    return {
        "name": gallery,
        "id": resource_id(sub, rg, "galleries", gallery),
        "type": TYPE_NAMES[KIND_GALLERY],
        "location": location,
        **tags,
        "properties": props,
    }


def gallery_put(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    validate.gallery_name(gallery)
    payload, location, props = validate.put_body(req)
    with lro.writing(ctx) as conn:
        rg_name = require_rg(conn, sub, rg)
        existing = get_resource(conn, KIND_GALLERY, sub, rg, gallery)
        if existing is not None:
            return _gallery_update(ctx, req, conn, existing, payload, props, replace=True)
        validate.compute_location(location, TYPE_NAMES[KIND_GALLERY])
        body = gallery_body(
            sub,
            rg_name,
            gallery,
            location,
            props.get("description"),
            resources.tags_of(payload),
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
            poll=lro.CAPS,
        )


def gallery_patch(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    payload = req.json()
    props = validate.obj(payload, "properties")
    with lro.writing(ctx) as conn:
        existing = require(conn, KIND_GALLERY, sub, rg, gallery)
        return _gallery_update(ctx, req, conn, existing, payload, props, replace=False)


def _gallery_update(
    ctx: Ctx,
    req: ArmRequest,
    conn: Any,
    res: Resource,
    payload: dict[str, Any],
    props: dict[str, Any],
    *,
    replace: bool,
) -> Response:
    """Only the description (and the tags) of a gallery can change."""
    if replace or "description" in props:
        description = props.get("description")
        rest = {k: v for k, v in res.body["properties"].items() if k != "description"}
        res.body["properties"] = {"description": description, **rest} if description else rest
    _apply_tags(res, payload, replace)
    return resources.begin_update(
        conn, ctx, req, res, duration=_update_duration(ctx), poll=lro.CAPS
    )


def _apply_tags(res: Resource, payload: dict[str, Any], replace: bool) -> None:
    """PUT replaces the tags (none sent: none kept); PATCH changes them only if sent."""
    if "tags" in payload:
        tags = {"tags": validate.tags(payload)}
    elif replace:
        tags = {}
    else:
        return
    rest = {k: v for k, v in res.body.items() if k not in ("tags", "properties")}
    res.body = {**rest, **tags, "properties": res.body["properties"]}


def _listed_gallery(res: Resource) -> dict[str, Any]:
    """Gallery lists carry the resource group as Azure stores it, upper-cased, while a
    GET echoes the name as requested (recorded in every test_gallery_e2e)."""
    body = resources.render(res)
    parts = body["id"].split("/")
    parts[4] = parts[4].upper()
    return {**body, "id": "/".join(parts)}


def gallery_get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    return resources.get(ctx, KIND_GALLERY, sub, rg, gallery)


def gallery_list_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_GALLERY, sub, rg, show=_listed_gallery)


def gallery_list(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_GALLERY, sub, _listed_gallery)


def gallery_delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    guard = _childless(KIND_GALLERY_IMAGE, sub, rg, gallery)
    return resources.delete(ctx, req, KIND_GALLERY, sub, rg, gallery, guard=guard, poll=lro.CAPS)


# --- image definitions ----------------------------------------------------------------

# Fixed at creation: "Changing property 'galleryImage.properties.<property>' is not allowed."
_FIXED = ("osType", "osState", "hyperVGeneration", "architecture")
_IDENTIFIER = ("publisher", "offer", "sku")
# Echoed as sent and changeable by an update.
_UPDATABLE = (
    "description",
    "eula",
    "privacyStatementUri",
    "releaseNoteUri",
    "endOfLifeDate",
    "recommended",
    "disallowed",
)


def require_gallery(conn: Any, sub: str, rg: str, gallery: str) -> Resource:
    """The parent gallery of a definition being created: ARM's ParentResourceNotFound."""
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
    with lro.writing(ctx) as conn:
        gal = require_gallery(conn, sub, rg, gallery)
        existing = get_resource(conn, KIND_GALLERY_IMAGE, sub, rg, image, gallery)
        if existing is not None:
            return _definition_update(ctx, req, conn, existing, payload, props, replace=True)
        ident = validate.obj(props, "identifier")
        for key in _IDENTIFIER:
            if not isinstance(ident.get(key), str) or not ident[key]:
                raise errors.invalid_parameter(
                    f"The 'identifier.{key}' property is required.", target=f"identifier.{key}"
                )
        require_live_parent(gal)
        rg_name = gal.body["id"].split("/")[4]
        body = definition_body(
            sub,
            rg_name,
            gal.body["name"],
            image,
            location,
            resources.tags_of(payload),
            identifier={k: ident[k] for k in _IDENTIFIER},
            os_type=validate.choice(props.get("osType"), ("Windows", "Linux"), "osType"),
            os_state=validate.choice(
                props.get("osState"), ("Generalized", "Specialized"), "osState"
            ),
            generation=validate.choice(
                props.get("hyperVGeneration"), ("V1", "V2"), "hyperVGeneration", "V1"
            ),
            architecture=validate.choice(
                props.get("architecture"), ("x64", "Arm64"), "architecture", "x64"
            ),
            extra=_updatable(props, ctx.now),
            features=props.get("features"),
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
            poll=lro.CAPS,
            show=definition_renderer(req),
        )


def _updatable(props: dict[str, Any], now: float) -> dict[str, Any]:
    extra = {k: props[k] for k in _UPDATABLE if props.get(k) not in (None, {}, "")}
    if "endOfLifeDate" in extra:
        extra["endOfLifeDate"] = validate.end_of_life(
            extra["endOfLifeDate"], "galleryImage.properties.endOfLifeDate", now
        )
    return extra


def definition_body(
    sub: str,
    rg: str,
    gallery: str,
    image: str,
    location: str,
    tags: dict[str, Any],
    *,
    identifier: dict[str, str],
    os_type: str,
    os_state: str,
    generation: str,
    architecture: str,
    state: str,
    extra: dict[str, Any] | None = None,
    features: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The recorded shape: the service adds ``architecture``; what the client sent is
    echoed (``features`` only when sent, an empty ``disallowed`` is dropped)."""
    props: dict[str, Any] = {
        "hyperVGeneration": generation,
        "architecture": architecture,
        "osType": os_type,
        "osState": os_state,
        "identifier": identifier,
        **(extra or {}),
    }
    if features:
        props["features"] = features
    props["provisioningState"] = state
    return {
        "name": image,
        "id": resource_id(sub, rg, "galleries", gallery, "images", image),
        "type": TYPE_NAMES[KIND_GALLERY_IMAGE],
        "location": location,
        **tags,
        "properties": props,
    }


def definition_renderer(req: ArmRequest) -> resources.Render:
    """``architecture`` is answered from api-version 2021-10-01 on (absent in 2020-09-30
    recordings, present in 2021-10-01 ones)."""
    keep_architecture = versions.at_least(req.api_version, versions.GALLERY_ARCHITECTURE)

    def show(res: Resource) -> dict[str, Any]:
        body = resources.render(res)
        if not keep_architecture:
            body["properties"] = {
                k: v for k, v in body["properties"].items() if k != "architecture"
            }
        return body

    return show


def definition_patch(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    payload = req.json()
    props = validate.obj(payload, "properties")
    with lro.writing(ctx) as conn:
        existing = require(conn, KIND_GALLERY_IMAGE, sub, rg, image, gallery)
        return _definition_update(ctx, req, conn, existing, payload, props, replace=False)


def _definition_update(
    ctx: Ctx,
    req: ArmRequest,
    conn: Any,
    res: Resource,
    payload: dict[str, Any],
    props: dict[str, Any],
    *,
    replace: bool,
) -> Response:
    """Change what a definition allows to change; anything fixed at creation that differs
    is refused. PUT replaces the updatable properties, PATCH merges the ones sent.
    ``features`` change only with ``allowUpdateImage: true`` (SDK model docstring)."""
    current = res.body["properties"]
    for key in _FIXED:
        if key in props and str(props[key]).lower() != str(current.get(key, "")).lower():
            raise errors.property_change_not_allowed(f"galleryImage.properties.{key}")
    ident = validate.obj(props, "identifier")
    for key in _IDENTIFIER:
        if key in ident and ident[key] != current["identifier"][key]:
            raise errors.property_change_not_allowed(f"galleryImage.properties.identifier.{key}")
    features_changed = "features" in props and props["features"] != current.get("features")
    if features_changed and props.get("allowUpdateImage") is not True:
        raise errors.property_change_not_allowed("galleryImage.properties.features")
    changes = _updatable(props, ctx.now)
    kept = {k: v for k, v in current.items() if not (replace and k in _UPDATABLE)}
    merged = {**kept, **changes}
    if "features" in props and props.get("allowUpdateImage") is True:
        merged["features"] = props["features"]
    state = merged.pop("provisioningState", "Succeeded")
    res.body["properties"] = {**merged, "provisioningState": state}
    _apply_tags(res, payload, replace)
    return resources.begin_update(
        conn,
        ctx,
        req,
        res,
        duration=_update_duration(ctx),
        poll=lro.CAPS,
        show=definition_renderer(req),
    )


def definition_get(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    return resources.get(
        ctx, KIND_GALLERY_IMAGE, sub, rg, image, gallery, show=definition_renderer(req)
    )


def definition_list(ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str) -> Response:
    require(ctx.store.conn(), KIND_GALLERY, sub, rg, gallery)
    return resources.list_in_group(
        ctx, req, KIND_GALLERY_IMAGE, sub, rg, parent=gallery, show=definition_renderer(req)
    )


def definition_delete(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    no_versions = _childless(KIND_GALLERY_VERSION, sub, rg, f"{gallery}/{image}")

    def guard(conn: Any) -> None:
        require_gallery(conn, sub, rg, gallery)
        no_versions(conn)

    return resources.delete(
        ctx, req, KIND_GALLERY_IMAGE, sub, rg, image, gallery, guard=guard, poll=lro.CAPS
    )
