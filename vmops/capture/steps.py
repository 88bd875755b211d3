"""The steps of a capture. Each reads Azure first and is skipped when Azure already shows
its outcome, so a capture resumes anywhere after a crash and a retry skips what was done.

The three kinds of capture (specs.py) are made of these steps in their order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from contoso_images import azure
from contoso_images.operations.registry import Observation, Step, StepContext, StepFailed
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.models import Capture
from vmops.capture.preflight import run_time_problems, same_resource
from vmops.choices import PowerState
from vmops.models import VirtualMachine
from vmops.power import DEALLOCATE
from vmops.services.inventory import vm_read_live
from vmops.specs import PowerStep

#: Why a step was skipped, first words of its note: the record and the audit history show
#: the note, so a kept VM is not "already done" and an existing definition is not "done".
NOT_ASKED = "Not asked for"
EXISTED = "Already existed"
EARLIER = "Already done by an earlier attempt"
ALREADY = "Already done"


def skipped(why: str, sentence: str) -> str:
    """A skipped step's note: ``"Already existed: image definition web is in the gallery."``"""
    return f"{why}: {sentence}"


def capture_of(ctx: StepContext) -> Capture:
    if "capture" not in ctx.cache:
        ctx.cache["capture"] = Capture.objects.select_related("vm__subscription").get(
            operation_id=ctx.operation.pk
        )
    capture: Capture = ctx.cache["capture"]
    return capture


def _vm(ctx: StepContext) -> VirtualMachine:
    return capture_of(ctx).vm


def _live(ctx: StepContext) -> azure.VirtualMachineDetail:
    detail = vm_read_live(vm=_vm(ctx))
    ctx.cache["detail"] = detail
    return detail


def _provisioning(detail: azure.VirtualMachineDetail) -> tuple[str, str]:
    """(state, time) of the VM's ProvisioningState status: ("updating", "2026-…")."""
    for status in detail.statuses:
        if status.code.lower().startswith("provisioningstate/"):
            state = status.code.split("/", 1)[1].lower()
            return state, status.time.isoformat() if status.time else ""
    return "", ""


class Preflight(Step):
    """Read the VM and the target from Azure just before acting, and stop if they forbid it."""

    name, label = "preflight", "Pre-flight checks"

    def begin(self, ctx: StepContext) -> str | None:
        capture = capture_of(ctx)
        ctx.report("Reading the VM and the target from Azure.")
        detail = _live(ctx)
        problems = run_time_problems(capture, detail)
        if problems:
            raise StepFailed(" ".join(problems), code="PreflightFailed")
        ctx.cache["step_note"] = (
            f"{capture.vm.name} is {capture.vm.get_power_state_display().lower()}, "
            f"{capture.vm.os_type or 'unknown OS'}, Gen {capture.vm.hyper_v_generation[1:] or '?'}."
        )
        return None


class GuestPrepare(Step):
    """Generalize the guest OS (sysprep / waagent), or take the operator's word that it was."""

    name, label, result_kind = "guest_prepare", "Generalize the guest OS", "vm_run_command"

    def is_irreversible(self, ctx: StepContext) -> bool:
        return capture_of(ctx).guest_preparation == GuestPreparation.RUN_COMMAND

    def observe(self, ctx: StepContext) -> Observation:
        capture = capture_of(ctx)
        if capture.guest_preparation == GuestPreparation.CONFIRMED:
            tool = "sysprep" if capture.vm.os_type == "Windows" else "waagent -deprovision+user"
            return Observation(
                done=True,
                note=skipped(
                    NOT_ASKED, f"the operator confirmed that the guest OS was generalized ({tool})."
                ),
            )
        detail = _live(ctx)
        earlier = _earlier_guest_preparation(capture)
        if earlier is not None:
            # Sysprep cannot run twice on a generalized guest: a retry never sends it again.
            return Observation(
                done=True,
                note=skipped(EARLIER, f"capture #{earlier.pk} generalized the guest OS."),
            )
        if detail.vm.generalized:
            return Observation(
                done=True, note=skipped(ALREADY, "Azure already shows the VM generalized.")
            )
        state, stamped = _provisioning(detail)
        if ctx.sent is not None:
            before = (ctx.sent.get("baseline") or {}).get("provisioning_time", "")
            if state == "updating":
                return Observation(in_flight=True, note="Run Command is running in the guest.")
            if stamped and before and stamped != before:
                # The command that left before an interruption reached the VM and is over.
                return Observation(done=True)
        if ctx.watching:
            if state == "updating":
                return Observation(in_flight=True, note="Run Command is running in the guest.")
            return Observation(done=True)
        return Observation()

    def baseline(self, ctx: StepContext) -> dict[str, Any]:
        detail = ctx.cache.get("detail")
        return {"provisioning_time": _provisioning(detail)[1] if detail else ""}

    def begin(self, ctx: StepContext) -> str | None:
        vm = _vm(ctx)
        ctx.report(f"Running {'sysprep' if vm.os_type == 'Windows' else 'waagent'} in the guest.")
        return azure.vm_begin_run_command(
            vm.subscription.subscription_id, vm.resource_group, vm.name, os_type=vm.os_type
        )

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        statuses = result if isinstance(result, tuple) else ()
        output = guest_output(statuses)
        Capture.objects.filter(pk=capture_of(ctx).pk).update(guest_output=output[:20_000])
        ctx.cache["step_note"] = "Run Command finished in the guest."


#: Shown for a stream the guest printed nothing on.
NOTHING_PRINTED = "(nothing printed)"


def guest_output(statuses: tuple[Any, ...]) -> str:
    """What Run Command printed, in one shape for both OSes ("" when Azure returned none).

    Linux answers with one ``ProvisioningState/succeeded`` status whose message packs
    ``Enable succeeded: \n[stdout]\n…\n[stderr]\n…``; Windows with
    ``ComponentStatus/StdOut/succeeded`` and ``ComponentStatus/StdErr/succeeded``, one
    stream each, often empty (sysprep prints nothing). Joining the messages as they came
    left a Windows capture with no output at all, though Run Command ran.
    """
    stdout: list[str] = []
    stderr: list[str] = []
    seen = False
    for status in statuses:
        code = (getattr(status, "code", "") or "").lower()
        message = getattr(status, "message", "") or ""
        if code.startswith("componentstatus/stdout"):
            stdout.append(message)
        elif code.startswith("componentstatus/stderr"):
            stderr.append(message)
        elif "[stdout]" in message:
            out, _, err = message.partition("[stdout]")[2].partition("[stderr]")
            stdout.append(out)
            stderr.append(err)
        elif message:
            stdout.append(message)
        else:
            continue
        seen = True
    if not seen:
        return ""
    out_text = "\n".join(stdout).strip("\n") or NOTHING_PRINTED
    err_text = "\n".join(stderr).strip("\n") or NOTHING_PRINTED
    return f"[stdout]\n{out_text}\n[stderr]\n{err_text}"


def _earlier_guest_preparation(capture: Capture) -> Capture | None:
    """The earlier attempt of this capture (it is a retry) whose Run Command generalized
    the guest, if any."""
    earlier = capture.retry_of
    while earlier is not None:
        if earlier.guest_output:
            return earlier
        earlier = earlier.retry_of
    return earlier_attempt(capture, GuestPrepare.name)


def earlier_attempt(capture: Capture, step: str) -> Capture | None:
    """The earlier attempt of this capture (it is a retry) that carried out this step, if
    any: its outcome, found in Azure now, is that attempt's work, not something that was
    there before."""
    earlier = capture.retry_of
    while earlier is not None:
        if earlier.operation.steps.filter(name=step, status="succeeded").exists():
            return earlier
        earlier = earlier.retry_of
    return None


def _why_done(ctx: StepContext, step: str, otherwise: str, sentence: str) -> str:
    """A skipped step's note: an earlier attempt's work, or ``otherwise``."""
    earlier = earlier_attempt(capture_of(ctx), step)
    if earlier is not None:
        return skipped(EARLIER, f"capture #{earlier.pk}: {sentence[0].lower()}{sentence[1:]}")
    return skipped(otherwise, sentence)


class Deallocate(PowerStep):
    """Deallocate: Azure generalizes only a VM that is not running, and a VM that sysprep
    shut down is only Stopped — still billed for compute."""

    def __init__(self) -> None:
        super().__init__(DEALLOCATE)
        self.label = "Deallocate the VM"

    def observe(self, ctx: StepContext) -> Observation:
        ctx.cache["vm"] = _vm(ctx)
        observation = super().observe(ctx)
        if _vm(ctx).power_state == PowerState.STOPPING and not observation.in_flight:
            # Sysprep's own shutdown is under way: deallocate once it is over.
            return Observation(wait=True, note="Waiting for the guest to finish shutting down.")
        if observation.done and observation.note:  # skipped: nothing was sent
            return Observation(
                done=True,
                note=_why_done(ctx, self.name, ALREADY, "Azure showed the VM deallocated."),
            )
        return observation

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        ctx.cache["step_note"] = (
            "Deallocated: Azure generalizes only a VM that is not running, and a VM that "
            "shut itself down is only Stopped, still billed for compute."
        )


class Generalize(Step):
    """Mark the VM generalized in Azure: it can never be started again."""

    name, label, irreversible = "generalize", "Mark the VM generalized in Azure", True

    def observe(self, ctx: StepContext) -> Observation:
        if _live(ctx).vm.generalized:
            return Observation(
                done=True,
                note=_why_done(ctx, self.name, ALREADY, "Azure already shows the VM generalized."),
            )
        return Observation()

    def begin(self, ctx: StepContext) -> str | None:
        vm = _vm(ctx)
        azure.vm_generalize(vm.subscription.subscription_id, vm.resource_group, vm.name)
        ctx.cache["step_note"] = "Azure marked the VM generalized."
        return None


def _gallery_version_id(capture: Capture) -> tuple[str, str, str, str, str]:
    sub = capture.vm.subscription.subscription_id
    return (
        sub,
        capture.image_resource_group,
        capture.gallery,
        capture.definition,
        capture.image_name,
    )


def _state_of(provisioning_state: str) -> str:
    return (provisioning_state or "").lower()


def _creation_seen(
    read: Callable[[], Any],
    what: str,
    *,
    missing_is_fine: bool = True,
    unexpected: str,
    source_id: str = "",
    why_done: Callable[[str], str] = lambda sentence: sentence,
) -> Observation:
    """What Azure shows of a resource a step creates: absent (send), being created (watch),
    there (done), or in another state (stop with ``unexpected``, which may use
    ``{state}``). With ``source_id``, a resource of that name made from anything else is
    somebody else's: the capture stops rather than take it for its own."""
    try:
        found = read()
    except azure.AzureError as exc:
        if exc.is_not_found and missing_is_fine:
            return Observation()
        raise
    if source_id and not same_resource(found.source_id, source_id):
        return Observation(
            unexpected=f"{what} already exists, made from "
            f"{found.source_id or 'another source'}, not from this VM; "
            "start a new capture with another name."
        )
    state = _state_of(found.provisioning_state)
    if state == "succeeded":
        return Observation(done=True, note=why_done(f"{what} exists."))
    if state in ("creating", "updating"):
        return Observation(in_flight=True, note=f"Azure is creating {what[0].lower()}{what[1:]}.")
    return Observation(unexpected=unexpected.format(state=found.provisioning_state or "unknown"))


class CreateDefinition(Step):
    """Create the image definition the new version belongs to, when it does not exist."""

    name, label = "create_definition", "Create the image definition"
    result_kind = "gallery_image_definition_create"

    def observe(self, ctx: StepContext) -> Observation:
        capture = capture_of(ctx)
        sub, rg, gallery, definition, _ = _gallery_version_id(capture)
        return _creation_seen(
            lambda: azure.gallery_image_definition_get(sub, rg, gallery, definition),
            f"Image definition {definition}",
            missing_is_fine=bool(capture.new_definition),
            why_done=lambda sentence: _why_done(ctx, self.name, EXISTED, sentence),
            unexpected=f"Image definition {definition} is in state {{state}}; "
            "fix or delete it in Azure, then retry.",
        )

    def begin(self, ctx: StepContext) -> str | None:
        capture = capture_of(ctx)
        sub, rg, gallery, definition, _ = _gallery_version_id(capture)
        spec = capture.new_definition
        return azure.gallery_image_definition_begin_create(
            sub,
            rg,
            gallery,
            definition,
            location=spec["location"],
            publisher=spec["publisher"],
            offer=spec["offer"],
            sku=spec["sku"],
            os_type=spec["os_type"],
            os_state=spec["os_state"],
            hyper_v_generation=spec["hyper_v_generation"],
        )


class CreateVersion(Step):
    """Create the gallery image version straight from the VM (no managed image needed)."""

    name, label = "create_version", "Create the image version"
    result_kind = "gallery_image_version_create"

    def observe(self, ctx: StepContext) -> Observation:
        capture = capture_of(ctx)
        name = capture.image_name
        return _creation_seen(
            lambda: azure.gallery_image_version_get(*_gallery_version_id(capture)),
            f"Image version {name}",
            unexpected=f"Image version {name} exists in state {{state}}; "
            "delete it, then retry the capture.",
            source_id=capture.vm.azure_id,
            why_done=lambda sentence: _why_done(ctx, self.name, EXISTED, sentence),
        )

    def begin(self, ctx: StepContext) -> str | None:
        capture = capture_of(ctx)
        sub, rg, gallery, definition, version = _gallery_version_id(capture)
        eol = capture.end_of_life_date
        return azure.gallery_image_version_begin_create(
            sub,
            rg,
            gallery,
            definition,
            version,
            location=capture.vm.location,
            source_id=capture.vm.azure_id,
            target_regions=[
                azure.TargetRegion(
                    name=region["name"],
                    regional_replica_count=int(region.get("replicas") or 1),
                    storage_account_type=region.get("storage") or "Standard_LRS",
                )
                for region in capture.target_regions
            ],
            exclude_from_latest=capture.exclude_from_latest,
            end_of_life_date=datetime(eol.year, eol.month, eol.day, tzinfo=UTC) if eol else None,
        )


class CreateManagedImage(Step):
    """Create a managed image from the generalized VM (in the VM's region)."""

    name, label, result_kind = "create_image", "Create the managed image", "image_create"

    def observe(self, ctx: StepContext) -> Observation:
        capture = capture_of(ctx)
        sub = capture.vm.subscription.subscription_id
        name = capture.image_name
        return _creation_seen(
            lambda: azure.managed_image_get(sub, capture.image_resource_group, name),
            f"Image {name}",
            unexpected=f"Image {name} exists in state {{state}}; "
            "delete it, then retry the capture.",
            source_id=capture.vm.azure_id,
            why_done=lambda sentence: _why_done(ctx, self.name, EXISTED, sentence),
        )

    def begin(self, ctx: StepContext) -> str | None:
        capture = capture_of(ctx)
        vm = capture.vm
        return azure.image_begin_create_from_vm(
            vm.subscription.subscription_id,
            capture.image_resource_group,
            capture.image_name,
            vm_id=vm.azure_id,
            location=vm.location,
            hyper_v_generation=vm.hyper_v_generation or "V1",
        )


class Replicate(Step):
    """Wait until the version is replicated to every target region (nothing to send)."""

    name, label, sends = "replicate", "Replicate to the target regions", False

    def observe(self, ctx: StepContext) -> Observation:
        capture = capture_of(ctx)
        version = azure.gallery_image_version_get(*_gallery_version_id(capture))
        if _state_of(version.provisioning_state) == "failed":
            return Observation(
                unexpected=f"Image version {capture.image_name} failed in Azure "
                f"({version.provisioning_state}); delete it, then retry the capture."
            )
        regions = version.replication
        progress = ", ".join(
            f"{r.region} {r.progress if r.progress is not None else '?'} %" for r in regions
        )
        failed = [r.region for r in regions if r.state.lower() == "failed"]
        if failed:
            return Observation(unexpected=f"Replication to {', '.join(failed)} failed: {progress}.")
        if version.replication_state.lower() == "completed" or (
            not regions and _state_of(version.provisioning_state) == "succeeded"
        ):
            names = ", ".join(r.region for r in regions) or "its region"
            return Observation(done=True, note=f"Replicated to {names}.")
        return Observation(in_flight=True, note=f"Replicating: {progress or 'starting'}.")

    def begin(self, ctx: StepContext) -> str | None:
        raise StepFailed("Replication cannot be started on its own; retry the capture.")


class Verify(Step):
    """Read the image back from Azure: it exists, succeeded, with the VM's generation and
    the OS state the capture promised."""

    name, label = "verify", "Verify the image in Azure"

    def begin(self, ctx: StepContext) -> str | None:
        capture = capture_of(ctx)
        vm = capture.vm
        kind = CaptureKind(capture.kind)
        if kind.to_gallery:
            sub, rg, gallery, definition, _ = _gallery_version_id(capture)
            version = azure.gallery_image_version_get(*_gallery_version_id(capture))
            parent = azure.gallery_image_definition_get(sub, rg, gallery, definition)
            provisioning, source = version.provisioning_state, version.source_id
            generation, os_state = parent.hyper_v_generation, parent.os_state
        else:
            image = azure.managed_image_get(
                vm.subscription.subscription_id, capture.image_resource_group, capture.image_name
            )
            provisioning, generation, os_state, source = (
                image.provisioning_state,
                image.hyper_v_generation,
                image.os_state,
                image.source_id,
            )
        wanted_state = "Generalized" if kind.generalized else "Specialized"
        problems = []
        if not same_resource(source, vm.azure_id):
            problems.append(f"The image was made from {source or 'another source'}, not this VM.")
        if _state_of(provisioning) != "succeeded":
            problems.append(f"Azure shows the image {provisioning or 'without a state'}.")
        if vm.hyper_v_generation and generation and generation != vm.hyper_v_generation:
            problems.append(
                f"The image is generation {generation}, the VM {vm.hyper_v_generation}."
            )
        if os_state and os_state.lower() != wanted_state.lower():
            problems.append(f"The image is {os_state}, not {wanted_state}.")
        if problems:
            raise StepFailed(" ".join(problems), code="VerificationFailed")
        ctx.cache["step_note"] = (
            f"Succeeded, generation {generation or '?'}, {os_state or wanted_state}."
        )
        return None


class EnterCatalog(Step):
    """Put the image in the catalog (not reviewed), linked to this capture."""

    name, label = "catalog", "Enter it in the catalog (not reviewed)"

    def begin(self, ctx: StepContext) -> str | None:
        from catalog.services import record_captured_image

        capture = capture_of(ctx)
        record_captured_image(
            capture.image_id, operation_id=ctx.operation.pk, source_vm_id=capture.vm.azure_id
        )
        ctx.cache["step_note"] = "In the catalog, awaiting review."
        return None


class DeleteSource(Step):
    """Delete the generalized source VM, when the operator asked for it."""

    name, label, result_kind = "delete_source", "Delete the source VM", "vm_delete"
    irreversible = True

    def observe(self, ctx: StepContext) -> Observation:
        capture = capture_of(ctx)
        if not capture.delete_source:
            return Observation(done=True, note=skipped(NOT_ASKED, "the VM is kept."))
        try:
            detail = _live(ctx)
        except azure.AzureError as exc:
            if exc.is_not_found:
                return Observation(
                    done=True,
                    note=_why_done(ctx, self.name, ALREADY, "The VM no longer exists in Azure."),
                )
            raise
        if detail.vm.provisioning_state.lower() == "deleting":
            return Observation(in_flight=True, note="Azure is deleting the VM.")
        if ctx.watching:
            return Observation(in_flight=True)
        return Observation()

    def begin(self, ctx: StepContext) -> str | None:
        vm = _vm(ctx)
        return azure.vm_begin_delete(vm.subscription.subscription_id, vm.resource_group, vm.name)

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        VirtualMachine.objects.filter(pk=_vm(ctx).pk, gone_at__isnull=True).update(
            gone_at=timezone.now()
        )
        ctx.cache["step_note"] = "The source VM was deleted."


def refresh_source_vm(ctx: StepContext) -> None:
    """After a capture (either way) the VM's cached state follows Azure's."""
    with contextlib.suppress(azure.AzureError, Capture.DoesNotExist):
        vm_read_live(vm=_vm(ctx))
