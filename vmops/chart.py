"""A server-rendered bar chart of VMs by power state per resource group.

Geometry is computed here so the template only draws rectangles; no chart library, no CDN.
Labels and totals are HTML text beside each bar, so they keep the page's font size on a
phone; only the bars are SVG, in percent of the largest group, stretched to the space left.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from vmops.choices import PowerState

COLOURS = {
    PowerState.RUNNING: "#2e8b57",
    PowerState.STOPPED: "#e0a030",
    PowerState.DEALLOCATED: "#8a94a3",
    PowerState.STARTING: "#7fb3e8",
    PowerState.STOPPING: "#4a90d9",
    PowerState.DEALLOCATING: "#1f5f9e",
    PowerState.UNKNOWN: "#8e5cc2",
}
ORDER = [
    PowerState.RUNNING,
    PowerState.STARTING,
    PowerState.STOPPING,
    PowerState.STOPPED,
    PowerState.DEALLOCATING,
    PowerState.DEALLOCATED,
    PowerState.UNKNOWN,
]
MAX_GROUPS = 10
#: Bars are drawn in a 0-100 wide viewBox: x and widths are percentages of the largest group.
BAR_WIDTH = 100


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str
    state_label: str
    count: int


@dataclass(frozen=True)
class Bar:
    label: str
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    legend: list[tuple[str, str]]


def power_state_chart(rows: list[dict[str, Any]]) -> Chart:
    """Build the chart from (resource_group, power_state, n) rows; small groups are pooled."""
    per_group: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names: dict[str, str] = {}  # resource group names are case-insensitive in Azure
    for row in rows:
        key = row["resource_group"].lower()
        names.setdefault(key, row["resource_group"])
        per_group[key][row["power_state"]] += row["n"]
    ranked = sorted(per_group.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    if len(ranked) > MAX_GROUPS:
        head, tail = ranked[: MAX_GROUPS - 1], ranked[MAX_GROUPS - 1 :]
        pooled: dict[str, int] = defaultdict(int)
        for _, states in tail:
            for state, n in states.items():
                pooled[state] += n
        ranked = [*head, (f"{len(tail)} other groups", pooled)]
    largest = max((sum(states.values()) for _, states in ranked), default=0) or 1
    bars = []
    for group, states in ranked:
        x = 0.0
        segments = []
        for state in ORDER:
            n = states.get(state, 0)
            if not n:
                continue
            width = BAR_WIDTH * n / largest
            segments.append(Segment(x, width, COLOURS[state], state.label, n))
            x += width
        label = names.get(group, group)
        bars.append(Bar(label, sum(states.values()), segments))
    present = {s for _, states in ranked for s in states}
    legend = [(COLOURS[s], s.label) for s in ORDER if s in present]
    return Chart(bars, legend)


@dataclass(frozen=True)
class WeekBar:
    """One week of "Saved so far": its Monday, the amount, its width in percent of the
    largest week."""

    week: Any
    amount: Any
    width: float


def savings_chart(weeks: list[tuple[Any, Any]]) -> list[WeekBar]:
    """Bars per week from (Monday, amount) pairs, oldest first (the last 26 weeks)."""
    recent = weeks[-26:]
    largest = max((amount for _, amount in recent), default=0) or 1
    return [WeekBar(week, amount, float(BAR_WIDTH * amount / largest)) for week, amount in recent]
