"""Replaying recorded Azure traffic through the emulator (used by test_replay.py).

A recording (``recordings/*.json``) is the list of Microsoft.Compute request/response
pairs an azure-cli scenario test exchanged with real Azure. The replayer sends each
recorded request to ``Emulator.handle`` in order and compares what the emulator answers
with what Azure answered:

- the status code;
- whether ``Azure-AsyncOperation`` and ``Location`` are there, where the operation is
  polled (``operations`` or ``capsOperations``) and with which api-version;
- the field names of the body, recursively (values are ids, names and times: not
  compared). List items are merged, so ``a[].b`` means "some item has ``b``";
- the values that say where things stand: an operation's ``status``, a resource's
  ``provisioningState`` and a VM's ``PowerState``/``OSState`` codes.

Time: every duration is long, and the clock jumps far ahead before each request unless
Azure's answer shows something still under way (an ``InProgress`` poll, a 202 from the
monitor URL, a resource still ``Creating``/``Updating``/``Deleting``). So the emulator
is mid-operation exactly when Azure was.

Polls: the operation ids in recorded poll URLs are Azure's; the replayer maps each to
the URL the emulator returned for the same initiating request. A poll of an operation
whose initiating request was skipped is skipped too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from contoso_images.arm_emulator import Emulator

RECORDINGS = Path(__file__).parent / "recordings"
LONG = 600.0  # seconds every operation takes
JUMP = 100_000.0  # seconds the clock moves before a request that finds everything done
IN_FLIGHT = {"Creating", "Updating", "Deleting"}


@dataclass
class Plan:
    """How to replay one recording: what to seed before which interaction, what to skip
    (with the reason) and which field paths to tolerate (with the reason)."""

    subscription: str
    resource_groups: list[tuple[str, str]]
    marketplace: list[dict[str, Any]] = field(default_factory=list)
    seed_vm_from: dict[int, int] = field(default_factory=dict)  # before i: VM of response j
    skip: dict[int, str] = field(default_factory=dict)
    tolerate: list[tuple[set[int], str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    compared: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)


def load(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def field_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in ``value``: ``properties.osProfile.linuxConfiguration``..."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= field_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            out |= field_paths(item, f"{prefix}[]")
    return out


def states(body: Any) -> dict[str, Any]:
    """The values that say where an operation or a resource stands."""
    if not isinstance(body, dict):
        return {}
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    view = props.get("instanceView") or {}
    codes = [
        s.get("code", "").split("/")[0] + "/" + s.get("code", "").split("/")[1]
        for s in view.get("statuses") or []
        if str(s.get("code", "")).startswith(("PowerState/", "OSState/"))
    ]
    found = {
        "status": body.get("status"),
        "provisioningState": props.get("provisioningState"),
        "codes": codes or None,
    }
    return {k: v for k, v in found.items() if v is not None}


def _op_id(url: str) -> str:
    return urlsplit(url).path.rstrip("/").split("/")[-1].lower()


def _poll_kind(url: str) -> str:
    return urlsplit(url).path.split("/")[-2]


def _api_version(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("api-version", [""])[0]


def _in_flight(item: dict[str, Any]) -> bool:
    """Whether Azure's answer shows an operation still under way."""
    request, response = item["request"], item["response"]
    if request["method"] != "GET":
        return False
    if response["status"] == 202:  # the monitor URL of a running operation
        return True
    body = response.get("body")
    if isinstance(body, dict):
        if body.get("status") == "InProgress":
            return True
        state = (body.get("properties") or {}).get("provisioningState")
        if state in IN_FLIGHT:
            return True
    return False


class Replayer:
    """Runs one recording against one emulator and collects the differences."""

    def __init__(self, emu: Emulator, recording: dict[str, Any], plan: Plan) -> None:
        self.emu = emu
        self.recording = recording
        self.plan = plan
        self.polls: dict[str, tuple[str | None, str | None]] = {}  # op id -> emulator URLs
        self.outcome = Outcome()

    def setup(self) -> None:
        self.emu.reset()
        self.emu.set_durations(all=LONG)
        self.emu.add_subscription(self.plan.subscription, "Recorded subscription")
        for rg, location in self.plan.resource_groups:
            self.emu.add_resource_group(self.plan.subscription, rg, location)
        for image in self.plan.marketplace:
            self.emu.add_marketplace_image(**image)

    def run(self) -> Outcome:
        self.setup()
        interactions = self.recording["interactions"]
        for i, item in enumerate(interactions):
            if i in self.plan.seed_vm_from:
                self.emu.seed_vm(interactions[self.plan.seed_vm_from[i]]["response"]["body"])
            if i in self.plan.skip:
                self.outcome.skipped[i] = self.plan.skip[i]
                continue
            url = self._url(item["request"])
            if url is None:
                self.outcome.skipped[i] = "polls an operation whose request was skipped"
                continue
            if not _in_flight(item):
                self.emu.advance(JUMP)
            self._compare(i, item, url)
        return self.outcome

    def _url(self, request: dict[str, Any]) -> str | None:
        uri = request["uri"]
        kind = _poll_kind(uri)
        if request["method"] != "GET" or kind.lower() not in ("operations", "capsoperations"):
            return uri
        known = self.polls.get(_op_id(uri))
        if known is None:
            return None
        aao, location = known
        return location if "monitor=true" in uri else aao

    def _compare(self, i: int, item: dict[str, Any], url: str) -> None:
        request, recorded = item["request"], item["response"]
        body = None if request["body"] is None else json.dumps(request["body"]).encode()
        status, headers, raw = self.emu.handle(request["method"], url, {}, body)
        mine = json.loads(raw) if raw else None
        where = f"#{i} {request['method']} {urlsplit(request['uri']).path}"
        found: list[str] = []
        if status != recorded["status"]:
            found.append(f"status {status} != recorded {recorded['status']}: {raw[:300]!r}")
        for header, key in (
            ("Azure-AsyncOperation", "azure_async_operation"),
            ("Location", "location"),
        ):
            want = recorded.get(key)
            got = headers.get(header)
            if bool(want) != bool(got):
                found.append(f"{header}: {'present' if got else 'absent'}, recorded the opposite")
            elif want and got:
                if _poll_kind(want).lower() != _poll_kind(got).lower():
                    found.append(f"{header} polls {_poll_kind(got)}, recorded {_poll_kind(want)}")
                if _api_version(want) != _api_version(got):
                    found.append(
                        f"{header} api-version {_api_version(got)} != {_api_version(want)}"
                    )
        if recorded.get("azure_async_operation") or recorded.get("location"):
            self.polls[_op_id(recorded.get("azure_async_operation") or recorded["location"])] = (
                headers.get("Azure-AsyncOperation"),
                headers.get("Location"),
            )
        if states(recorded["body"]) != states(mine):
            found.append(f"state {states(mine)} != recorded {states(recorded['body'])}")
        tolerated = self._tolerated(i)
        theirs = field_paths(recorded["body"])
        ours = field_paths(mine)
        missing = {p for p in theirs - ours if not tolerated(p)}
        extra = {p for p in ours - theirs if not tolerated(p)}
        if missing:
            found.append(f"fields Azure sent and the emulator did not: {sorted(missing)}")
        if extra:
            found.append(f"fields the emulator sent and Azure did not: {sorted(extra)}")
        self.outcome.compared.append(i)
        self.outcome.differences += [f"{where}: {f}" for f in found]

    def _tolerated(self, i: int) -> Callable[[str], bool]:
        prefixes = [path for indexes, path, _ in self.plan.tolerate if i in indexes]
        return lambda p: any(p == t or p.startswith((f"{t}.", f"{t}[]")) for t in prefixes)
