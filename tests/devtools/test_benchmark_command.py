"""``manage.py benchmark`` still runs end to end (small), so it cannot break unnoticed."""

from __future__ import annotations

import io
import re

from django.core.management import call_command


def test_benchmark_command_prints_constant_queries_and_paged_listing():
    out = io.StringIO()
    call_command("benchmark", "--vms", "300", "--skip-cluster", stdout=out)
    text = out.getvalue()
    figures = {
        label.strip(): value.strip()
        for label, value in re.findall(r"^(.+?)\s\|\s(.+)$", text, re.M)
        if not label.startswith("figure")
    }
    assert figures["ARM list requests"] == figures["expected ceil(n / page size)"]
    assert int(figures["VMs listed"].replace(",", "")) >= 300
    queries = [v for k, v in figures.items() if re.match(r"list page @ [\d,]+ VMs: queries", k)]
    assert len(queries) == 2 and queries[0] == queries[1]
    assert figures["ARM requests per full sync"] == next(
        v for k, v in figures.items() if k.startswith("expected: 1 + ceil")
    )
    # The sync section: its own process, requests as expected, the figures it promises.
    assert figures["ARM requests of the full sync"] == next(
        v for k, v in figures.items() if k.startswith("expected: 1 (subscriptions) + ceil")
    )
    vms, new = figures["VMs in 2 subscriptions / new at the first sync"].split(" / ")
    assert int(vms.split()[0].replace(",", "")) == int(new.replace(",", "")) >= 300
    for label in (
        "full sync of",
        "fetch+parse of the same pages",
        "full sync / fetch+parse",
        "peak RSS of the sync process",
        "repeat full sync, nothing changed: wall / CPU",
        "machine: cores / load average",
    ):
        assert any(k.startswith(label) for k in figures), label
