"""The kinds of operation the catalog runs on the shared engine: a review's Azure effect.

One :class:`OperationSpec` per decision with an effect in Azure (``catalog.decisions``:
approve, reject, deprecate), each with one :class:`PublishingStep` that PATCHes the gallery
version's publishing profile with only what changes, and puts the decision in force in the
transaction that records its success. The step reads the version first: a version that
Azure already shows as wanted needs nothing sent, and a worker taking over an accepted
update watches it instead of sending it again.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from catalog.choices import REPLICATE_PERMISSION, REVIEW_PERMISSION
from catalog.decisions import DECISIONS, GalleryEffect
from catalog.models import GALLERY_VERSION_TYPE, CatalogImage
from catalog.services.fields import region_key
from catalog.services.images import apply_version_read, image_read_live
from catalog.services.replication import KIND as REPLICATE_KIND
from catalog.services.replication import wanted_regions
from catalog.services.review import effect_succeeded
from contoso_images import azure
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import Observation, OperationSpec, Step, StepContext


def _image(ctx: StepContext) -> CatalogImage:
    if "image" not in ctx.cache:
        ctx.cache["image"] = CatalogImage.objects.select_related("subscription", "definition").get(
            resource_key=ctx.operation.target_key
        )
    image: CatalogImage = ctx.cache["image"]
    return image


def _wanted_eol(ctx: StepContext) -> datetime | None:
    value = ctx.parameters.get("end_of_life_date")
    return datetime.fromisoformat(value) if value else None


def _same_moment(a: datetime | None, b: datetime | None) -> bool:
    """Azure echoes end-of-life dates to the second (``…T12:59:59+00:00``)."""
    if a is None or b is None:
        return a is b
    return abs((a - b).total_seconds()) < 1


def _described(exclude: bool, eol: datetime | None) -> str:
    words = "excluded from latest" if exclude else "included in latest"
    if eol is not None:
        words += f", end of life {eol:%Y-%m-%d}"
    return words


class PublishingStep(Step):
    """Set a version's exclude-from-latest (and end of life) and wait until Azure has."""

    name = "update_publishing"
    result_kind = "gallery_image_version_update"

    def __init__(self, label: str) -> None:
        self.label = label

    def _read(self, ctx: StepContext) -> azure.GalleryImageVersion:
        image = _image(ctx)
        definition = image.definition
        assert definition is not None and image.subscription is not None
        return azure.gallery_image_version_get(
            image.subscription.subscription_id,
            image.resource_group,
            definition.gallery_name,
            definition.name,
            image.name,
        )

    def observe(self, ctx: StepContext) -> Observation:
        if not ctx.watching:
            ctx.report("Reading the image version in Azure.")
        try:
            version = self._read(ctx)
        except azure.AzureError as exc:
            if exc.is_not_found:
                return Observation(
                    unexpected="The image version no longer exists in Azure; nothing was changed."
                )
            raise
        shows = self.shows(ctx, version)
        updating = version.provisioning_state.lower() == "updating"
        if ctx.watching:
            if updating:
                return Observation(in_flight=True)
            if shows:
                return Observation(done=True)
            return Observation(
                unexpected=f"Azure shows the version {self.seen(version)} instead; "
                "check it in Azure."
            )
        if shows and not updating:
            return Observation(
                done=True,
                note=f"Azure already showed the version {self.wanted(ctx)}; nothing was sent.",
            )
        if shows and updating and (ctx.sent is not None or ctx.is_takeover):
            # A request that may have left (its answer lost, or an earlier attempt that died
            # before storing its token) is under way: watch it, never send a second one.
            return Observation(in_flight=True)
        return Observation()

    def shows(self, ctx: StepContext, version: azure.GalleryImageVersion) -> bool:
        """Whether Azure's version already is as the operation wants it."""
        eol = _wanted_eol(ctx)
        return version.exclude_from_latest == bool(ctx.parameters.get("exclude_from_latest")) and (
            eol is None or _same_moment(version.end_of_life_date, eol)
        )

    def seen(self, version: azure.GalleryImageVersion) -> str:
        return _described(version.exclude_from_latest, version.end_of_life_date)

    def wanted(self, ctx: StepContext) -> str:
        return _described(bool(ctx.parameters.get("exclude_from_latest")), _wanted_eol(ctx))

    def update(self, ctx: StepContext) -> dict[str, Any]:
        """The PATCH's arguments (``azure.gallery_image_version_begin_update``)."""
        return {
            "exclude_from_latest": bool(ctx.parameters.get("exclude_from_latest")),
            "end_of_life_date": _wanted_eol(ctx),
        }

    def begin(self, ctx: StepContext) -> str | None:
        image = _image(ctx)
        definition = image.definition
        assert definition is not None and image.subscription is not None
        ctx.report("Sending the update to Azure.")
        return azure.gallery_image_version_begin_update(
            image.subscription.subscription_id,
            image.resource_group,
            definition.gallery_name,
            definition.name,
            image.name,
            **self.update(ctx),
        )

    def accepted(self, ctx: StepContext) -> None:
        """Keep ARM's operation id (its request id) with the operation, for the record."""
        arm_id = azure.accepted_operation_id(ctx.operation.continuation_token)
        if arm_id:
            state = {**ctx.operation.state, "arm_operation_id": arm_id}
            Operation.objects.filter(pk=ctx.operation.pk).update(state=state)
            ctx.operation.state = state

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        """Azure's final version (read by the poller) refreshes the cached replication."""
        image = _image(ctx)
        if isinstance(result, azure.GalleryImageVersion) and image.definition is not None:
            apply_version_read(definition=image.definition, version=result)
            ctx.cache["fresh"] = True


def effect_precheck(image: Any, parameters: dict[str, Any]) -> str:
    if not isinstance(image, CatalogImage) or not image.is_gallery_version:
        return "Only gallery image versions have a review effect in Azure."
    if image.gone_at:
        return f"{image.display_name} was deleted in Azure."
    return ""


def refresh_image(ctx: StepContext) -> None:
    """Re-read the version after its effect ended, either way; a failed read only leaves the
    cache older (a deleted version is marked gone by the read)."""
    if ctx.cache.get("fresh"):
        return
    try:
        image = _image(ctx)
    except CatalogImage.DoesNotExist:
        return
    with contextlib.suppress(azure.AzureError):
        image_read_live(image=image)


def put_in_force(ctx: StepContext) -> None:
    """Azure carried the decision out: its status is put in force with the success."""
    effect_succeeded(operation=ctx.operation)


def effect_operation(effect: GalleryEffect) -> OperationSpec:
    """The operation that carries a decision out on a gallery version, as its spec says."""
    return OperationSpec(
        kind=effect.kind,
        label=effect.label,
        permission=REVIEW_PERMISSION,
        target_type=GALLERY_VERSION_TYPE,
        precheck=effect_precheck,
        steps=(PublishingStep(effect.step_label),),
        finished=refresh_image,
        on_succeeded=put_in_force,
    )


REVIEW_EFFECT_SPECS = tuple(
    effect_operation(spec.effect) for spec in DECISIONS if spec.effect is not None
)


# --- changing the replication ----------------------------------------------------------------


def _regions_seen(version: azure.GalleryImageVersion) -> dict[str, tuple[int, str]]:
    return {
        region_key(t.name): (t.regional_replica_count, t.storage_account_type)
        for t in version.target_regions
    }


def _regions_words(regions: dict[str, tuple[int, str]]) -> str:
    return "replicated to " + ", ".join(
        f"{name} ({count} × {storage})" for name, (count, storage) in sorted(regions.items())
    )


class ReplicationStep(PublishingStep):
    """Set a version's target regions (replica counts, storage) and wait until Azure has.

    The same PATCH as a review effect, with the same crash rules: the version is read
    first, a version Azure already shows as wanted needs nothing sent, and an update whose
    answer was lost (the version ``Updating`` with the wanted regions) is watched, never
    sent again."""

    name = "update_replication"

    def __init__(self) -> None:
        super().__init__("Change the target regions and replicas")

    @staticmethod
    def _wanted_regions(ctx: StepContext) -> dict[str, tuple[int, str]]:
        return {region_key(r.name): (r.replicas, r.storage) for r in wanted_regions(ctx.parameters)}

    def shows(self, ctx: StepContext, version: azure.GalleryImageVersion) -> bool:
        return _regions_seen(version) == self._wanted_regions(ctx)

    def seen(self, version: azure.GalleryImageVersion) -> str:
        return _regions_words(_regions_seen(version))

    def wanted(self, ctx: StepContext) -> str:
        return _regions_words(self._wanted_regions(ctx))

    def update(self, ctx: StepContext) -> dict[str, Any]:
        return {
            "target_regions": [
                azure.TargetRegion(
                    name=r.name, regional_replica_count=r.replicas, storage_account_type=r.storage
                )
                for r in wanted_regions(ctx.parameters)
            ],
            "allow_region_removal": bool(ctx.parameters.get("allow_removal")),
        }


def replication_precheck(image: Any, parameters: dict[str, Any]) -> str:
    if not isinstance(image, CatalogImage) or not image.is_gallery_version:
        return "Only gallery image versions are replicated to regions."
    if image.gone_at:
        return f"{image.display_name} was deleted in Azure."
    return ""


REPLICATION_SPEC = OperationSpec(
    kind=REPLICATE_KIND,
    label="Replication change",
    permission=REPLICATE_PERMISSION,
    target_type=GALLERY_VERSION_TYPE,
    precheck=replication_precheck,
    steps=(ReplicationStep(),),
    finished=refresh_image,
)

#: Every kind the catalog registers on the engine (CatalogConfig.ready).
CATALOG_SPECS = (*REVIEW_EFFECT_SPECS, REPLICATION_SPEC)
