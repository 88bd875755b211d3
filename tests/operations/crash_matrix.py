"""The crash-point matrix: every kind of operation and every step that writes to Azure, against
every point where a worker can die (``engine.CRASH_POINTS``).

The power actions are run by tests/operations/test_crash_points.py; the capture steps, the
review effects and the deletion of a partial image by tests/operations/test_crash_matrix.py.
A point that a step cannot pass (a synchronous step has no status to watch and is never
handed off) is a cell of its own, checked rather than assumed. ``markdown()`` is the table
(``pytest tests/operations/test_crash_matrix.py -s -k the_matrix`` prints it).
"""

from __future__ import annotations

from dataclasses import dataclass

from contoso_images.operations.engine import CRASH_POINTS

#: A step that Azure answers at once (generalize: 200, no status to watch) never passes these.
TOKEN_POINTS = ("while_watching", "before_result", "during_handoff")


@dataclass(frozen=True)
class Cell:
    kind: str
    step: str
    point: str
    #: Where it is tested: "in process" (the worker dies there) or "never passed" (the
    #: engine is shown not to pass the point in that step).
    how: str
    test: str


POWER = {
    "vm.start": "start",
    "vm.power_off": "power_off",
    "vm.deallocate": "deallocate",
    "vm.restart": "restart",
}
#: (kind, step) -> whether Azure answers the step at once (no token: no watching, no hand-off).
WRITE_STEPS = {
    ("vm.capture_gallery", "guest_prepare"): False,
    ("vm.capture_gallery", "deallocate"): False,
    ("vm.capture_gallery", "generalize"): True,
    ("vm.capture_gallery", "create_version"): False,
    ("vm.capture_gallery", "delete_source"): False,
    ("vm.capture_managed_image", "create_image"): False,
    ("vm.capture_specialized", "create_definition"): False,
    ("catalog.approve", "update_publishing"): False,
    ("catalog.reject", "update_publishing"): False,
    ("catalog.deprecate", "update_publishing"): False,
    ("catalog.replicate", "update_replication"): False,
    ("image.delete_partial", "delete"): False,
    ("vm.create", "create"): False,
    ("vm.delete", "delete"): False,
}
#: One of each kind, through a real qcluster whose worker is SIGKILLed
#: (tests/operations/test_cluster_crashes.py, tests/capture/test_cluster_capture.py).
CLUSTER = {
    ("vm.*", "every power action", "every point"): "test_cluster_crashes.py (20 kills)",
    ("vm.capture_gallery", "create_version", "while_watching"): "capture/test_cluster_capture.py",
    ("vm.capture_gallery", "guest_prepare", "after_accept"): "test_cluster_crashes.py",
    ("catalog.deprecate", "update_publishing", "after_accept"): "test_cluster_crashes.py",
    ("image.delete_partial", "delete", "while_watching"): "test_cluster_crashes.py "
    "(a managed image; in process: a gallery version)",
    # The billing guard asks for vm.deallocate itself: each point, in process and through a
    # real cluster, with the guard's schedule coming round while workers die.
    ("vm.deallocate (billing guard)", "deallocate", "every point"): "vmops/test_guard_crashes.py",
}


def cells() -> list[Cell]:
    found = [
        Cell(kind, step, point, "in process", "test_crash_points.py")
        for kind, step in POWER.items()
        for point in CRASH_POINTS
    ]
    for (kind, step), synchronous in WRITE_STEPS.items():
        for point in CRASH_POINTS:
            never = synchronous and point in TOKEN_POINTS
            found.append(
                Cell(
                    kind,
                    step,
                    point,
                    "never passed" if never else "in process",
                    "test_crash_matrix.py",
                )
            )
    return found


def reachable() -> list[tuple[str, str, str]]:
    """(kind, step, point) of every cell where test_crash_matrix.py kills a worker."""
    return [
        (c.kind, c.step, c.point) for c in cells() if c.how == "in process" and c.kind not in POWER
    ]


def never_passed() -> list[tuple[str, str, str]]:
    return [(c.kind, c.step, c.point) for c in cells() if c.how == "never passed"]


def markdown() -> str:
    """The matrix as a markdown table: a row per kind and step, a column per point."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for cell in cells():
        mark = "killed" if cell.how == "in process" else "never passed (checked)"
        rows.setdefault((cell.kind, cell.step), {})[cell.point] = mark
    head = "| kind | step | " + " | ".join(f"`{p}`" for p in CRASH_POINTS) + " |"
    rule = "|---|---|" + "---|" * len(CRASH_POINTS)
    lines = [head, rule]
    for (kind, step), points in rows.items():
        lines.append(
            f"| `{kind}` | `{step}` | " + " | ".join(points[p] for p in CRASH_POINTS) + " |"
        )
    lines.append("")
    lines.append("Real qcluster, SIGKILL:")
    lines.append("")
    for (kind, step, point), where in CLUSTER.items():
        lines.append(f"- `{kind}` `{step}` at `{point}`: {where}")
    return "\n".join(lines)
