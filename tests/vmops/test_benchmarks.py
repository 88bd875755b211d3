"""The benchmark still runs (small), so `manage.py benchmark` cannot break unnoticed."""

from __future__ import annotations

import pytest

from vmops import benchmarks

pytestmark = pytest.mark.django_db(transaction=True)


def test_vmops_benchmark_runs_and_reports_constant_queries():
    figures = dict(benchmarks.run(vms=300, cluster=False))
    labels = " ".join(figures)
    assert "ARM requests per full sync" in labels
    small = next(v for k, v in figures.items() if k.startswith("list page @ 100 VMs: queries"))
    large = next(
        v
        for k, v in figures.items()
        if k.startswith("list page @") and k.endswith("VMs: queries") and "@ 100 " not in k
    )
    assert small == large
