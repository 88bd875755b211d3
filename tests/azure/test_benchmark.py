"""The ARM listing benchmark runs end to end on a small tenant and reports sane figures."""

from __future__ import annotations

from contoso_images.benchmarks import arm_listing


def test_arm_listing_benchmark_small():
    rows = dict(arm_listing.run(vms=300))
    listed = int(rows["VMs listed"].replace(",", ""))
    assert listed >= 300
    assert rows["ARM list requests"] == rows["expected ceil(n / page size)"]
    assert float(rows["seconds"]) > 0
