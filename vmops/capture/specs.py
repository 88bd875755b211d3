"""The three kinds of capture, each one OperationSpec made of the steps it needs, and the
clean-up a failed capture offers (deleting a partial image).

A capture is one operation on its VM, so no power action can run beside it; its kind says
which capture it is, so each shows exactly its own steps.
"""

from __future__ import annotations

from typing import Any

from contoso_images import azure
from contoso_images.azure.ids import resource_names
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import Observation, OperationSpec, Step, StepContext
from vmops.capture.choices import CaptureKind
from vmops.capture.models import Capture
from vmops.capture.preflight import same_resource
from vmops.capture.rules import capture_availability
from vmops.capture.steps import (
    CreateDefinition,
    CreateManagedImage,
    CreateVersion,
    Deallocate,
    DeleteSource,
    EnterCatalog,
    Generalize,
    GuestPrepare,
    Preflight,
    Replicate,
    Verify,
    capture_of,
    refresh_source_vm,
)
from vmops.models import VM_TYPE, VirtualMachine
from vmops.rules import VmState

CAPTURE = "vmops.capture_virtualmachine"

KINDS = {
    CaptureKind.GALLERY_GENERALIZED: "vm.capture_gallery",
    CaptureKind.MANAGED_IMAGE: "vm.capture_managed_image",
    CaptureKind.GALLERY_SPECIALIZED: "vm.capture_specialized",
}
#: Every operation kind that is a capture (records and pages find captures by these).
CAPTURE_KINDS = tuple(KINDS.values())


def _capture(kind: CaptureKind, *steps: Step) -> OperationSpec:
    def precheck(vm: VirtualMachine, parameters: dict[str, Any]) -> str:
        return capture_availability(kind=kind, state=VmState.of(vm)).reason

    return OperationSpec(
        kind=KINDS[kind],
        label="Capture",
        permission=CAPTURE,
        target_type=VM_TYPE,
        precheck=precheck,
        steps=steps,
        finished=refresh_source_vm,
        on_succeeded=_name_the_image,
    )


def made_sentence(capture: Capture) -> str:
    """What a finished capture made, in words: its notification says this, not the last
    step's note ("Not asked for: the VM is kept.")."""
    if capture.gallery:
        return f"Made image version {capture.target_label}."
    return f"Made managed image {capture.image_name} in {capture.image_resource_group}."


def _name_the_image(ctx: StepContext) -> None:
    """The success message (shown by the bell's notifications) names the image made."""
    capture = capture_of(ctx)
    sentence = made_sentence(capture)
    Operation.objects.filter(pk=ctx.operation.pk).update(progress_message=sentence)
    ctx.operation.progress_message = sentence


GALLERY_GENERALIZED = _capture(
    CaptureKind.GALLERY_GENERALIZED,
    Preflight(),
    GuestPrepare(),
    Deallocate(),
    Generalize(),
    CreateDefinition(),
    CreateVersion(),
    Replicate(),
    Verify(),
    EnterCatalog(),
    DeleteSource(),
)
MANAGED_IMAGE = _capture(
    CaptureKind.MANAGED_IMAGE,
    Preflight(),
    GuestPrepare(),
    Deallocate(),
    Generalize(),
    CreateManagedImage(),
    Verify(),
    EnterCatalog(),
    DeleteSource(),
)
GALLERY_SPECIALIZED = _capture(
    CaptureKind.GALLERY_SPECIALIZED,
    Preflight(),
    CreateDefinition(),
    CreateVersion(),
    Replicate(),
    Verify(),
    EnterCatalog(),
)


class DeletePartialImage(Step):
    """Delete what a failed capture left behind (an image or version in Failed state)."""

    name, label = "delete", "Delete the partial image"
    result_kind = "image_delete"  # nothing to read back

    def observe(self, ctx: StepContext) -> Observation:
        try:
            found: Any = _read(ctx.operation.target_id)
        except azure.AzureError as exc:
            if exc.is_not_found:
                return Observation(done=True, note="Azure no longer has it.")
            raise
        if ctx.watching:
            return Observation(in_flight=True)
        capture = Capture.objects.select_related("vm").get(pk=ctx.parameters["capture_id"])
        if not same_resource(found.source_id, capture.vm.azure_id):
            return Observation(
                unexpected=f"{ctx.operation.target_name} was made from "
                f"{found.source_id or 'another source'}, not by this capture: nothing deleted."
            )
        if ctx.sent is not None and (found.provisioning_state or "").lower() == "deleting":
            return Observation(in_flight=True)
        # Not being deleted: a DELETE that never reached Azure is sent (again; it is safe).
        return Observation()

    def begin(self, ctx: StepContext) -> str | None:
        sub, rg, provider, name = azure.parse_resource_id(ctx.operation.target_id)
        if provider.lower() == "microsoft.compute/images":
            return azure.image_begin_delete(sub, rg, name)
        gallery, definition, version = resource_names(ctx.operation.target_id)[-3:]
        return azure.gallery_image_version_begin_delete(sub, rg, gallery, definition, version)


def _read(resource_id: str) -> object:
    sub, rg, provider, name = azure.parse_resource_id(resource_id)
    if provider.lower() == "microsoft.compute/images":
        return azure.managed_image_get(sub, rg, name)
    gallery, definition, version = resource_names(resource_id)[-3:]
    return azure.gallery_image_version_get(sub, rg, gallery, definition, version)


DELETE_PARTIAL_IMAGE = OperationSpec(
    kind="image.delete_partial",
    label="Delete the partial image",
    permission=CAPTURE,
    target_type="Microsoft.Compute/images",
    steps=(DeletePartialImage(),),
)

SPECS = (GALLERY_GENERALIZED, MANAGED_IMAGE, GALLERY_SPECIALIZED, DELETE_PARTIAL_IMAGE)


def capture_spec(kind: str) -> OperationSpec:
    return {spec.kind: spec for spec in SPECS}[KINDS[CaptureKind(kind)]]
