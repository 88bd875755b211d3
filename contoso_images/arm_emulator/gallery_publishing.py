"""An image version's publishing profile: target regions, replica counts, replication.

Shared by the creation and the update of a gallery image version. What the recordings
show (docs/emulator-fidelity.md, "Compute Gallery"):

- target regions are echoed in request order with display names (``"East US 2"`` for
  ``eastus2``), each with ``regionalReplicaCount`` (the profile's ``replicaCount`` when
  not given) and ``storageAccountType`` (``Standard_LRS`` by default); a region's
  ``excludeFromLatest`` and ``encryption`` only when sent;
- ``replicationMode`` is absent unless the client sends it;
- an update applies at once (the 200 body shows it) and replicates the new regions, and
  the regions whose replica count changed, over minutes.

Replication is a schedule kept in the version's private state: one entry per region
with the time it started and the time it completes. ``$expand=ReplicationStatus`` reads
progress off the clock.
"""

from __future__ import annotations

from typing import Any

from . import errors, regions
from .errors import invalid_parameter

MAX_REPLICAS = 100  # per version (Compute Gallery limits page)
STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")
_PROFILE = "galleryImageVersion.properties.publishingProfile"


def _count(value: Any, target: str) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError) as exc:
        raise invalid_parameter(f"'{target}' must be an integer.", target=target) from exc
    if not 1 <= count <= MAX_REPLICAS:
        raise invalid_parameter(
            f"The value {count} of parameter {target} is out of range. The value must be "
            f"between 1 and {MAX_REPLICAS}, inclusive.",
            target=target,
        )
    return count


def _storage_type(value: Any, target: str) -> str:
    for option in STORAGE_TYPES:
        if isinstance(value, str) and value.lower() == option.lower():
            return option
    raise invalid_parameter(
        f"The value '{value}' of '{target}' is invalid. Allowed values: "
        f"{', '.join(STORAGE_TYPES)}.",
        target=target,
    )


def target_regions(
    raw: Any, *, replica_count: int, storage_type: str, source_region: str
) -> list[dict[str, Any]]:
    """Validated target regions as Azure echoes them (request order, display names)."""
    target = f"{_PROFILE}.targetRegions"
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(r, dict) and isinstance(r.get("name"), str) for r in raw)
    ):
        raise invalid_parameter(
            "'publishingProfile.targetRegions' must be a list of objects with a 'name'.",
            target=target,
        )
    names = [regions.normalize(r["name"]) for r in raw]
    unknown = [r["name"] for r, n in zip(raw, names, strict=True) if not regions.is_physical(n)]
    if unknown:
        raise invalid_parameter(
            f"The target region '{unknown[0]}' is not a valid Azure region.", target=target
        )
    if len(set(names)) != len(names):
        raise invalid_parameter(
            "Duplicate regions are not allowed in target publishing regions.", target=target
        )
    if source_region not in names:
        shown = ", ".join(regions.display(n) for n in names)
        raise invalid_parameter(
            f"Gallery image version publishing profile regions '{shown}' must contain the "
            f"location of image version '{regions.display(source_region)}'.",
            target=target,
        )
    out = []
    for entry in raw:
        item: dict[str, Any] = {
            "name": regions.display(entry["name"]),
            "regionalReplicaCount": _count(
                entry.get("regionalReplicaCount") or replica_count,
                f"{target}.regionalReplicaCount",
            ),
            "storageAccountType": _storage_type(
                entry.get("storageAccountType") or storage_type, f"{target}.storageAccountType"
            ),
        }
        if "excludeFromLatest" in entry:
            item["excludeFromLatest"] = bool(entry["excludeFromLatest"])
        if isinstance(entry.get("encryption"), dict):
            item["encryption"] = entry["encryption"]
        out.append(item)
    return out


def with_disk_security_profiles(profile: dict[str, Any]) -> dict[str, Any]:
    """``profile`` with the empty ``securityProfile`` Azure adds to each target region's
    OS-disk encryption (recorded with api 2022-03-03; absent with 2019-12-01)."""
    regions_out = []
    for region in profile.get("targetRegions") or []:
        encryption = region.get("encryption")
        if isinstance(encryption, dict) and isinstance(encryption.get("osDiskImage"), dict):
            os_disk = {"securityProfile": {}, **encryption["osDiskImage"]}
            region = {**region, "encryption": {**encryption, "osDiskImage": os_disk}}
        regions_out.append(region)
    return {**profile, "targetRegions": regions_out}


def new_profile(
    profile: dict[str, Any], location: str, source_region: str, published: str
) -> dict[str, Any]:
    """The publishing profile of a version being created."""
    replica_count = _count(profile.get("replicaCount") or 1, f"{_PROFILE}.replicaCount")
    storage_type = _storage_type(
        profile.get("storageAccountType") or "Standard_LRS", f"{_PROFILE}.storageAccountType"
    )
    raw_regions = profile.get("targetRegions") or [{"name": location}]
    out: dict[str, Any] = {
        "targetRegions": target_regions(
            raw_regions,
            replica_count=replica_count,
            storage_type=storage_type,
            source_region=source_region,
        ),
        "replicaCount": replica_count,
        "excludeFromLatest": bool(profile.get("excludeFromLatest", False)),
        "publishedDate": published,
        "storageAccountType": storage_type,
    }
    if profile.get("replicationMode"):
        out["replicationMode"] = profile["replicationMode"]
    return out


def updated_profile(
    current: dict[str, Any], change: dict[str, Any], *, source_region: str, allow_removal: bool
) -> dict[str, Any]:
    """``current`` with the updatable fields of ``change`` applied: target regions,
    replica counts, excludeFromLatest, endOfLifeDate (checked by the caller). The storage
    account type and the replication mode are fixed at creation."""
    for key in ("storageAccountType", "replicationMode"):
        if key in change and change[key] and change[key] != current.get(key, change[key]):
            raise errors.property_change_not_allowed(f"{_PROFILE}.{key}")
    out = dict(current)
    replica_count = current["replicaCount"]
    if "replicaCount" in change and change["replicaCount"] is not None:
        replica_count = _count(change["replicaCount"], f"{_PROFILE}.replicaCount")
        out["replicaCount"] = replica_count
    if change.get("targetRegions") is not None:
        wanted = target_regions(
            change["targetRegions"],
            replica_count=replica_count,
            storage_type=current["storageAccountType"],
            source_region=source_region,
        )
        before = {r["name"]: r for r in current["targetRegions"]}
        for region in wanted:
            old = before.get(region["name"])
            if old and old["storageAccountType"] != region["storageAccountType"]:
                raise errors.property_change_not_allowed(
                    f"{_PROFILE}.targetRegions.storageAccountType"
                )
        removed = set(before) - {r["name"] for r in wanted}
        if removed and not allow_removal:
            raise invalid_parameter(
                f"Removing the replicated regions '{', '.join(sorted(removed))}' is not "
                "allowed: safetyProfile.allowDeletionOfReplicatedLocations is false.",
                target=f"{_PROFILE}.targetRegions",
            )
        out["targetRegions"] = wanted
    if "excludeFromLatest" in change and change["excludeFromLatest"] is not None:
        out["excludeFromLatest"] = bool(change["excludeFromLatest"])
    return out


# --- replication ------------------------------------------------------------------------


def schedule(
    names: list[str], source_region: str, start: float, duration: float
) -> list[dict[str, Any]]:
    """Regions complete one after another over ``duration``, the source region first."""
    ordered = sorted(names, key=lambda n: regions.normalize(n) != source_region)
    n = max(1, len(ordered))
    return [
        {"region": name, "from": start, "due": start + duration * (i + 1) / n}
        for i, name in enumerate(ordered)
    ]


def reschedule(
    plan: list[dict[str, Any]],
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    start: float,
    duration: float,
) -> list[dict[str, Any]]:
    """The replication plan after an update: regions kept as they were stay as planned;
    new regions, regions whose replica count changed and regions whose replication failed
    replicate again over ``duration`` ("if it fails, trigger the command again", the
    troubleshooting page); removed regions go."""
    old = {r["name"]: r["regionalReplicaCount"] for r in before}
    planned = {p["region"]: p for p in plan}
    changed = [
        r["name"]
        for r in after
        if r["name"] not in planned
        or planned[r["name"]].get("failed")
        or old.get(r["name"]) != r["regionalReplicaCount"]
    ]
    n = max(1, len(changed))
    out = []
    for region in after:
        name = region["name"]
        if name in changed:
            i = changed.index(name)
            out.append({"region": name, "from": start, "due": start + duration * (i + 1) / n})
        else:
            out.append(planned[name])
    return out


def plan_of(emu: dict[str, Any]) -> list[dict[str, Any]]:
    """The replication plan (state files written before plans existed kept
    ``started``/``duration``/``regions`` instead)."""
    if "replication" in emu:
        return list(emu["replication"])
    names = emu.get("regions") or []
    return schedule(
        names,
        regions.normalize(names[0]) if names else "",
        float(emu.get("started") or 0),
        float(emu.get("duration") or 0),
    )


def replication_status(plan: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """``$expand=ReplicationStatus``: per-region state and progress read off the clock."""
    summary = []
    for entry in plan:
        start, due = float(entry["from"]), float(entry["due"])
        done = now >= due
        span = max(due - start, 1e-9)
        progress = 100 if done else max(0, min(99, int(100 * (now - start) / span)))
        state = "Completed" if done else "Replicating"
        if entry.get("failed"):
            state, progress = "Failed", min(progress, 99)
        summary.append(
            {"region": entry["region"], "state": state, "details": "", "progress": progress}
        )
    states = {s["state"] for s in summary}
    if "Failed" in states:
        aggregated = "Failed"
    else:
        aggregated = "Completed" if states <= {"Completed"} else "InProgress"
    return {"aggregatedState": aggregated, "summary": summary}
