"""Virtual machine endpoints: list, get, instance view, power actions, generalize,
run command, legacy capture, delete, available sizes — with the rules Azure enforces:
no generalize while running, nothing but deallocate/delete once generalized, one
operation at a time (OperationNotAllowed 409s with Azure's messages), power-off and
deallocate may interrupt a start, delete interrupts anything.

Run Command answers in each OS's shape (recorded for Linux; the Windows one is the
specification's example): Linux gives one ``ProvisioningState/succeeded`` status whose
message packs ``Enable succeeded: \n[stdout]\n…\n[stderr]\n…``; Windows gives
``ComponentStatus/StdOut/succeeded`` and ``ComponentStatus/StdErr/succeeded``. The output
is in the final operation-status body (``properties.output``) and at the monitor URL.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import catalog, errors, lro, resources, vm_model
from .errors import OP_NAMES
from .lookup import KIND_VM, require
from .state import Resource, save_resource
from .vm_model import VM_TYPE
from .wire import ArmRequest, Ctx, Response, json_response

# URL action -> (operation key, final steady power state)
POWER_ACTIONS = {
    "start": ("start", "running"),
    "poweroff": ("power_off", "stopped"),
    "deallocate": ("deallocate", "deallocated"),
    "restart": ("restart", "running"),
}
# operation key -> the power state it ends in, and its REST action name (as Azure's
# "An ongoing operation is changing power state..." message names them)
POWER_TARGETS = dict(POWER_ACTIONS.values())
REST_ACTIONS = {
    "start": "start",
    "power_off": "powerOff",
    "deallocate": "deallocate",
    "restart": "restart",
}
# operation key -> pending operations it preempts instead of being refused: powering off
# or deallocating is allowed while the VM is still starting, and the start it interrupts
# ends Canceled/OperationPreempted.
PREEMPTS = {"power_off": ("start", "restart"), "deallocate": ("start", "restart")}
RUN_COMMANDS = {
    "Windows": {
        "RunPowerShellScript",
        "EnableRemotePS",
        "IPConfig",
        "RDPSettings",
        "ResetRDPCert",
        "SetRDPPort",
        "EnableAdminAccount",
    },
    "Linux": {"RunShellScript", "ifconfig"},
}
OUTPUT_LIMIT = 4096  # "Output is limited to the last 4,096 bytes" (Run Command docs)


def _renderer(req: ArmRequest) -> resources.Render:
    """Lists carry the instance view with ``statusOnly=true`` or ``$expand=instanceView``.
    A listing renders each row it loaded once and drops it, so the body is not copied."""
    with_view = req.flag("statusOnly") or req.query.get("$expand", "").lower() == "instanceview"
    return lambda r: vm_model.render(
        r, with_instance_view=with_view, api=req.api_version, owned=True
    )


def list_all(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_VM, sub, _renderer(req))


def list_by_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_VM, sub, rg, show=_renderer(req))


def get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    res = require(ctx.store.conn(), KIND_VM, sub, rg, vm)
    with_view = req.query.get("$expand", "").lower() == "instanceview"
    return json_response(
        200, vm_model.render(res, with_instance_view=with_view, api=req.api_version)
    )


def instance_view(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    res = require(ctx.store.conn(), KIND_VM, sub, rg, vm)
    return json_response(200, vm_model.instance_view(res))


def available_sizes(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    require(ctx.store.conn(), KIND_VM, sub, rg, vm)
    return json_response(200, {"value": [catalog.size_json(n) for n in catalog.VM_SIZES]})


def _check_free(res: Resource, op_key: str) -> None:
    """Deleting VMs and VMs with a pending operation refuse everything else; asking again
    for the power change already under way gets its own message."""
    name = res.body["name"]
    if res.emu.get("deleting"):
        raise errors.vm_deleting(OP_NAMES[op_key], name)
    pending = res.emu.get("op")
    if pending:
        target = POWER_TARGETS.get(op_key)
        if target is not None and POWER_TARGETS.get(pending["kind"]) == target:
            raise errors.vm_power_changing(name, target, REST_ACTIONS[op_key])
        raise errors.vm_busy(OP_NAMES[op_key], name)


def _preempted(res: Resource, op_key: str) -> str | None:
    """The id of the pending operation that ``op_key`` replaces rather than waits for."""
    pending = res.emu.get("op")
    if not pending or res.emu.get("deleting"):
        return None
    return pending["id"] if pending["kind"] in PREEMPTS.get(op_key, ()) else None


def _begin(
    conn: sqlite3.Connection,
    ctx: Ctx,
    req: ArmRequest,
    res: Resource,
    *,
    op_key: str,
    kind: str,
    duration: float,
    params: dict[str, Any],
) -> lro.Operation:
    res.emu["state_time"] = ctx.now
    return lro.start(
        conn, ctx, req, res, kind=kind, op_key=op_key, duration=duration, params=params
    )


def power_action(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str, action: str) -> Response:
    op_key, target = POWER_ACTIONS[action.lower()]
    op_name = OP_NAMES[op_key]
    with lro.writing(ctx) as conn:
        res = require(conn, KIND_VM, sub, rg, vm)
        name = res.body["name"]
        power = res.emu["power"]
        replaced = _preempted(res, op_key)
        if replaced is None:
            _check_free(res, op_key)
        else:
            lro.preempt(conn, replaced, ctx.now)
            power = "running"  # the interrupted start was bringing it up: a full stop follows
        duration = ctx.durations[op_key]
        if res.emu.get("os_generalized") and op_key != "deallocate":
            raise errors.vm_generalized(op_name, name)
        if op_key == "start" and power == "running":
            raise errors.vm_already_running(op_name, name)
        if op_key in ("power_off", "restart") and power == "deallocated":
            raise errors.vm_deallocated(op_name, name)
        if op_key == "restart" and power == "stopped":
            raise errors.vm_not_running(op_name, name)
        if power == target and op_key in ("power_off", "deallocate"):
            duration = 0.0  # Azure treats these as no-ops that succeed at once
        op = _begin(
            conn,
            ctx,
            req,
            res,
            op_key=op_key,
            kind="vm_power",
            duration=duration,
            params={"target": target, "hibernated": _ends_hibernated(req, res, op_key, power)},
        )
    # Recorded: Retry-After 10 on a deallocate's 202, none on power off, restart or start.
    retry_after = lro.RETRY_AFTER_VM if op_key == "deallocate" else None
    return lro.accepted(op, req.api_version or "", retry_after=retry_after)


def _ends_hibernated(req: ArmRequest, res: Resource, op_key: str, power: str) -> bool:
    """``deallocate?hibernate=true`` hibernates a VM that is up; deallocating an already
    deallocated VM is a no-op that keeps whatever it was. Every other action wakes it."""
    if op_key != "deallocate":
        return False
    if power == "deallocated":
        return bool(res.emu.get("hibernated"))
    return req.flag("hibernate")


def generalize(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    """Synchronous 200 with an empty body and no async headers (recorded), from stopped
    (still allocated) or deallocated. Generalizing again answers 200 and changes nothing
    (not observed, docs/emulator-fidelity.md)."""
    with lro.writing(ctx) as conn:
        res = require(conn, KIND_VM, sub, rg, vm)
        _check_free(res, "generalize")
        if res.emu["power"] == "running":
            raise errors.vm_running_generalize(res.body["name"])
        res.emu["os_generalized"] = True
        res.emu["state_time"] = ctx.now
        save_resource(conn, res)
    return Response(200, {}, b"")


def _guest_effect(os_type: str, command_id: str, script: list[str]) -> str | None:
    """What the script does to the guest: ``"sysprep"`` (Windows sysprep; the guest shuts
    down only with ``/shutdown``), ``"sysprep_shutdown"``, ``"deprovision"`` (Linux
    ``waagent -deprovision``, which does not stop the VM) or None."""
    text = "\n".join(script).lower()
    if os_type == "Windows" and command_id == "RunPowerShellScript" and "sysprep" in text:
        return "sysprep_shutdown" if "/shutdown" in text else "sysprep"
    if command_id == "RunShellScript" and "waagent" in text and "-deprovision" in text:
        return "deprovision"
    return None


def _fake_stdout(script: list[str], os_type: str) -> str:
    """Echo what ``echo``/``Write-Output`` lines would print; enough for a demo. A shell's
    output ends with a newline (recorded: ``[stdout]\nhello\n\n[stderr]``); the Windows
    example's does not. Only the last 4,096 bytes are kept, as Azure does."""
    out = []
    for line in script:
        stripped = line.strip()
        for prefix in ("echo ", "Write-Output ", "Write-Host "):
            if stripped.lower().startswith(prefix.lower()):
                out.append(stripped[len(prefix) :].strip().strip("'\""))
    text = "".join(f"{o}\n" for o in out) if os_type == "Linux" else "\n".join(out)
    return text.encode()[-OUTPUT_LIMIT:].decode(errors="ignore")


def run_command_output(os_type: str, stdout: str, stderr: str = "") -> dict[str, Any]:
    """The run command's result (``RunCommandResult``) in the OS's shape."""
    if os_type == "Linux":
        return {
            "value": [
                {
                    "code": "ProvisioningState/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "message": f"Enable succeeded: \n[stdout]\n{stdout}\n[stderr]\n{stderr}",
                }
            ]
        }
    return {
        "value": [
            {
                "code": "ComponentStatus/StdOut/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
                "message": stdout,
            },
            {
                "code": "ComponentStatus/StdErr/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
                "message": stderr,
            },
        ]
    }


def run_command(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    payload = req.json()
    command_id = payload.get("commandId")
    script = payload.get("script") or []
    if not isinstance(command_id, str) or not command_id:
        raise errors.invalid_parameter("The 'commandId' property is required.", target="commandId")
    if not isinstance(script, list) or not all(isinstance(s, str) for s in script):
        raise errors.invalid_parameter("'script' must be an array of strings.", target="script")
    with lro.writing(ctx) as conn:
        res = require(conn, KIND_VM, sub, rg, vm)
        _check_free(res, "run_command")
        os_type = res.body["properties"]["storageProfile"]["osDisk"]["osType"]
        if command_id not in RUN_COMMANDS.get(os_type, set()):
            raise errors.invalid_parameter(
                f"The command id '{command_id}' is not supported on a {os_type} virtual machine.",
                target="commandId",
            )
        name = res.body["name"]
        if res.emu.get("os_generalized"):
            raise errors.vm_generalized(OP_NAMES["run_command"], name)
        if res.emu["power"] == "deallocated":
            raise errors.vm_deallocated(OP_NAMES["run_command"], name)
        if res.emu["power"] != "running":
            raise errors.vm_not_running(OP_NAMES["run_command"], name)
        op = _begin(
            conn,
            ctx,
            req,
            res,
            op_key="run_command",
            kind="vm_run_command",
            duration=ctx.durations["run_command"],
            params={
                "guest": _guest_effect(os_type, command_id, script),
                "os_type": os_type,
                "stdout": _fake_stdout(script, os_type),
            },
        )
    return lro.accepted(op, req.api_version or "")


def capture(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    """Legacy capture: only a generalized VM with blob (VHD) disks; the result is the VM
    template Azure writes (recorded in test_vm_generalize), in ``properties.output`` and
    at the monitor URL. Managed-disk VMs are refused with Azure's message."""
    payload = req.json()
    prefix = payload.get("vhdPrefix")
    container = payload.get("destinationContainerName")
    if not isinstance(prefix, str) or not isinstance(container, str):
        raise errors.invalid_parameter(
            "'vhdPrefix' and 'destinationContainerName' are required.", target="vhdPrefix"
        )
    with lro.writing(ctx) as conn:
        res = require(conn, KIND_VM, sub, rg, vm)
        os_disk = res.body["properties"]["storageProfile"]["osDisk"]
        if "vhd" not in os_disk:
            raise errors.capture_managed_disks()
        _check_free(res, "capture")
        if not res.emu.get("os_generalized"):
            raise errors.capture_not_generalized()
        op = _begin(
            conn,
            ctx,
            req,
            res,
            op_key="capture",
            kind="vm_capture",
            duration=ctx.durations["image_create"],
            params={"template": capture_template(res, prefix, req.api_version)},
        )
    return lro.accepted(op, req.api_version or "")


def capture_template(res: Resource, prefix: str, api: str | None) -> dict[str, Any]:
    """The ARM template a capture writes, shaped as recorded."""
    props = res.body["properties"]
    os_disk = props["storageProfile"]["osDisk"]
    vm_id = props.get("vmId") or res.body["name"]
    account = os_disk["vhd"]["uri"].split("/vhds/")[0]
    disk_name = f"{prefix}-osDisk.{vm_id}.vhd"
    return {
        "$schema": "http://schema.management.azure.com/schemas/2014-04-01-preview/VM_IP.json",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "vmName": {"type": "string"},
            "vmSize": {"type": "string", "defaultValue": props["hardwareProfile"]["vmSize"]},
            "adminUserName": {"type": "string"},
            "adminPassword": {"type": "securestring"},
            "networkInterfaceId": {"type": "string"},
        },
        "resources": [
            {
                "name": "[parameters('vmName')]",
                "type": VM_TYPE,
                "location": res.body["location"],
                "apiVersion": api or lro.COMPUTE_API_VERSION,
                "properties": {
                    "hardwareProfile": {"vmSize": "[parameters('vmSize')]"},
                    "provisioningState": 0,
                    "storageProfile": {
                        "osDisk": {
                            "osType": os_disk["osType"],
                            "name": disk_name,
                            "createOption": "FromImage",
                            "image": {
                                "uri": f"{account}/system/Microsoft.Compute/Images/vhds/{disk_name}"
                            },
                            "vhd": {"uri": f"{account}/vmcontainer{vm_id}/osDisk.{vm_id}.vhd"},
                            "caching": os_disk.get("caching") or "ReadWrite",
                        }
                    },
                    "osProfile": {
                        "computerName": "[parameters('vmName')]",
                        "adminUsername": "[parameters('adminUsername')]",
                        "adminPassword": "[parameters('adminPassword')]",
                    },
                    "networkProfile": {
                        "networkInterfaces": [{"id": "[parameters('networkInterfaceId')]"}]
                    },
                },
            }
        ],
    }


# --- settlement effects -------------------------------------------------------------


@lro.effect("vm_power")
def _settle_power(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    resources.release(
        conn,
        op,
        state_time=when,
        power=op.params["target"],
        hibernated=bool(op.params.get("hibernated")),
    )


@lro.effect("vm_run_command")
def _settle_run_command(conn: sqlite3.Connection, op: lro.Operation, when: float) -> Any:
    guest = op.params.get("guest")
    if guest is None and op.params.get("sysprep"):  # an operation from an older state file
        guest = "sysprep_shutdown"
    if guest == "sysprep_shutdown":
        # The guest generalizes itself and shuts down: Stopped (allocated), still billed.
        resources.release(conn, op, state_time=when, guest_generalized=True, power="stopped")
    elif guest in ("sysprep", "deprovision"):
        # Generalized inside, still running until someone stops it.
        resources.release(conn, op, state_time=when, guest_generalized=True)
    else:
        resources.release(conn, op, state_time=when)
    return run_command_output(op.params.get("os_type", "Windows"), op.params.get("stdout", ""))


@lro.effect("vm_capture")
def _settle_capture(conn: sqlite3.Connection, op: lro.Operation, when: float) -> Any:
    resources.release(conn, op, state_time=when)
    return op.params["template"]


@lro.rollback("vm_power", "vm_run_command", "vm_capture")
def _action_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed action leaves the VM in the power state it had (Succeeded, not Updating)."""
    resources.release(conn, op, state_time=when)
