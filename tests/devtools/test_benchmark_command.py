"""``manage.py benchmark`` still runs end to end (small), so it cannot break unnoticed."""

from __future__ import annotations

import io
import re

from django.core.management import call_command


def test_benchmark_command_prints_constant_queries_and_paged_listing():
    out = io.StringIO()
    # Small (--quick: every figure, little data, no qcluster); CI also runs every section so.
    call_command(
        "benchmark",
        "--quick",
        "--only",
        "arm_listing",
        "--only",
        "vmops",
        "--only",
        "sync",
        stdout=out,
    )
    text = out.getvalue()
    # Rows read "figure | value | machine while measured".
    figures = {
        cells[0].strip(): cells[1].strip()
        for cells in (line.split(" | ") for line in text.splitlines())
        if len(cells) >= 2 and not cells[0].startswith("figure")
    }
    assert figures["ARM list requests"] == figures["expected ceil(n / page size)"]
    assert int(figures["VMs listed"].replace(",", "")) >= 30
    # The list's queries are the same at every size it was measured at.
    queries = [v for k, v in figures.items() if re.match(r"list .*@ [\d,]+ .*VMs: queries", k)]
    assert len(queries) >= 4
    assert len({q for v in queries for q in v.split(" / ")}) == 1, queries
    assert figures["ARM requests per full sync"] == next(
        v for k, v in figures.items() if k.startswith("expected: 1 + ceil")
    )
    # The sync section: its own process, requests as expected, the figures it promises.
    assert figures["ARM requests of the full sync"] == next(
        v for k, v in figures.items() if k.startswith("expected: 1 (subscriptions) + ceil")
    )
    vms, new = figures["VMs in 2 subscriptions / new at the first sync"].split(" / ")
    assert int(vms.split()[0].replace(",", "")) == int(new.replace(",", "")) >= 30
    for label in (
        "full sync of",
        "fetch+parse of the same pages",
        "full sync / fetch+parse",
        "peak RSS of the sync process",
        "repeat full sync, nothing changed: wall / CPU",
        "machine: cores / load average",
    ):
        assert any(k.startswith(label) for k in figures), label
