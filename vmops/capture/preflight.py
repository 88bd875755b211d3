"""What Azure shows about a VM and its capture target, and what forbids the capture.

The wizard's pre-flight panel reads this before anything is queued, and the capture's
first step reads it again when it runs, so a state that changed meanwhile (someone started
the VM, created the version) stops the capture before any change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contoso_images import azure
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState


@dataclass(frozen=True)
class Target:
    """Where a capture puts its image (from the wizard's form or a Capture row)."""

    kind: str
    guest_preparation: str
    image_resource_group: str
    image_name: str
    gallery: str = ""
    definition: str = ""
    new_definition: dict[str, Any] = field(default_factory=dict)
    #: A retry expects to find what the failed capture already made.
    retry: bool = False


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    #: "ok", "warn" or "bad": colour and words on the panel.
    tone: str = "ok"


#: (the wizard's field the problem is about, or "" for the whole form; the sentence)
Problem = tuple[str, str]


@dataclass(frozen=True)
class Preflight:
    facts: list[Fact]
    problems: list[Problem]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def sentences(self) -> list[str]:
        return [sentence for _, sentence in self.problems]


def vm_facts(detail: azure.VirtualMachineDetail) -> list[Fact]:
    vm = detail.vm
    power = PowerState(vm.power_state) if vm.power_state in PowerState.values else None
    agent = detail.vm_agent_status or ("not reported" if vm.power_state != "running" else "")
    return [
        Fact(
            "Power state",
            power.label if power else vm.power_state,
            "warn" if vm.power_state == PowerState.STOPPED else "ok",
        ),
        Fact(
            "OS state",
            "Generalized — it can never be started again" if vm.generalized else "Specialized",
            "warn" if vm.generalized else "ok",
        ),
        Fact("OS type", vm.os_type or "unknown", "ok" if vm.os_type else "bad"),
        Fact(
            "Generation",
            {"V2": "Gen 2 (UEFI)", "V1": "Gen 1 (BIOS)"}.get(vm.hyper_v_generation, "unknown"),
        ),
        Fact(
            "VM agent",
            agent or "not reported",
            "ok" if agent == "Ready" else "warn",
        ),
    ]


def check(detail: azure.VirtualMachineDetail, target: Target) -> Preflight:
    """The VM's facts, what forbids this capture (problems) and what deserves a second look
    (warnings). Reads the target from Azure: at most two GETs."""
    problems = vm_problems(detail, target)
    warnings: list[str] = []
    kind = CaptureKind(target.kind)
    sub = detail.vm.subscription_id
    if kind.to_gallery:
        problems += _gallery_problems(sub, detail, target, warnings)
    else:
        problems += _managed_image_problems(sub, target, detail.vm.id)
    return Preflight(vm_facts(detail), problems, warnings)


def vm_problems(detail: azure.VirtualMachineDetail, target: Target) -> list[Problem]:
    vm = detail.vm
    kind = CaptureKind(target.kind)
    problems: list[Problem] = []
    if vm.power_state in TRANSITIONAL_POWER_STATES:
        problems.append(("", f"The VM is {vm.power_state}; wait until it has finished."))
    if not kind.generalized and vm.generalized:
        problems.append(
            (
                "kind",
                "The VM is generalized in Azure, so it can only be captured as a generalized "
                "image.",
            )
        )
    if (
        kind.generalized
        and target.guest_preparation == GuestPreparation.RUN_COMMAND
        and not vm.generalized
    ):
        if vm.power_state != PowerState.RUNNING:
            problems.append(
                (
                    "guest_preparation",
                    "Run Command needs a running VM: start it, or generalize the guest "
                    "yourself and confirm it.",
                )
            )
        elif detail.vm_agent_status != "Ready":
            problems.append(
                (
                    "guest_preparation",
                    f"The VM agent is {detail.vm_agent_status or 'not reporting'}: Run Command "
                    "needs it Ready. Generalize the guest yourself and confirm it instead.",
                )
            )
    return problems


def _gallery_problems(
    sub: str, detail: azure.VirtualMachineDetail, target: Target, warnings: list[str]
) -> list[Problem]:
    vm = detail.vm
    kind = CaptureKind(target.kind)
    wanted_state = "Generalized" if kind.generalized else "Specialized"
    try:
        definition = azure.gallery_image_definition_get(
            sub, target.image_resource_group, target.gallery, target.definition
        )
    except azure.AzureError as exc:
        if not exc.is_not_found:
            raise
        if target.new_definition:
            return []
        return [
            (
                "definition",
                f"Image definition {target.definition} does not exist in gallery {target.gallery}.",
            )
        ]
    problems: list[Problem] = []
    if target.new_definition and not target.retry:
        problems.append(
            (
                "new_definition_name",
                f"An image definition named {target.definition} already exists: choose it, "
                "or another name.",
            )
        )
    if definition.os_type and vm.os_type and definition.os_type != vm.os_type:
        problems.append(
            (
                "definition",
                f"{target.definition} is for {definition.os_type}; the VM runs {vm.os_type}.",
            )
        )
    if (
        definition.hyper_v_generation
        and vm.hyper_v_generation
        and definition.hyper_v_generation != vm.hyper_v_generation
    ):
        problems.append(
            (
                "definition",
                f"{target.definition} is generation {definition.hyper_v_generation}; the VM is "
                f"{vm.hyper_v_generation}. A VM's generation cannot change.",
            )
        )
    if definition.os_state and definition.os_state.lower() != wanted_state.lower():
        problems.append(
            (
                "definition",
                f"{target.definition} holds {definition.os_state.lower()} images; this "
                f"capture makes a {wanted_state.lower()} one.",
            )
        )
    versions = azure.gallery_image_versions(
        sub, target.image_resource_group, target.gallery, target.definition
    )
    names = {v.name for v in versions}
    same = next((v for v in versions if v.name == target.image_name), None)
    if same is not None and target.retry and same_resource(same.source_id, vm.id):
        pass  # what the failed capture already made: the retry finishes it
    elif same is not None:
        problems.append(
            (
                "version",
                f"Version {target.image_name} of {target.definition} already exists; "
                "versions cannot be replaced. Choose another version number.",
            )
        )
    elif versions:
        highest = max(names, key=version_key)
        if version_key(target.image_name) < version_key(highest):
            warnings.append(
                f"{target.image_name} is lower than {highest}, the highest version of "
                f"{target.definition}: it will never be the latest."
            )
    return problems


def same_resource(a: str, b: str) -> bool:
    """ARM ids compare without regard to case; an unknown source is nobody's."""
    return bool(a) and a.lower() == b.lower()


def _managed_image_problems(sub: str, target: Target, vm_id: str) -> list[Problem]:
    try:
        found = azure.managed_image_get(sub, target.image_resource_group, target.image_name)
    except azure.AzureError as exc:
        if exc.is_not_found:
            return []
        raise
    if target.retry and same_resource(found.source_id, vm_id):
        return []  # what the failed capture already made: the retry finishes it
    return [
        (
            "image_name",
            f"An image named {target.image_name} already exists in resource group "
            f"{target.image_resource_group}; choose another name.",
        )
    ]


def version_key(name: str) -> tuple[int, ...]:
    """``1.10.0`` after ``1.9.3``: versions compare as numbers, part by part."""
    return tuple(int(part) if _ascii_number(part) else -1 for part in name.split("."))


def _ascii_number(part: str) -> bool:
    """Digits 0–9 only: ``str.isdigit`` is also true of ``²`` and ``２``."""
    return part.isascii() and part.isdigit()


def next_patch(names: list[str]) -> str:
    """The version a new capture proposes: one patch above the highest (``1.0.0`` if none)."""
    valid = [n for n in names if n.count(".") == 2 and all(_ascii_number(p) for p in n.split("."))]
    if not valid:
        return "1.0.0"
    major, minor, patch = max(valid, key=version_key).split(".")
    return f"{int(major)}.{int(minor)}.{int(patch) + 1}"


def run_time_problems(capture: Any, detail: azure.VirtualMachineDetail) -> list[str]:
    """The checks again, when the capture's first step runs (Azure may have changed)."""
    target = Target(
        kind=capture.kind,
        guest_preparation=capture.guest_preparation,
        image_resource_group=capture.image_resource_group,
        image_name=capture.image_name,
        gallery=capture.gallery,
        definition=capture.definition,
        new_definition=capture.new_definition,
        retry=capture.retry_of_id is not None,
    )
    return check(detail, target).sentences
