"""``manage.py benchmark --only transport`` runs end to end (small): the same sync and the same
clicks in process and over HTTPS, with the machine's cores and load beside the figures."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.slow


def test_the_transport_benchmark_compares_both_paths_side_by_side():
    out = io.StringIO()
    call_command("benchmark", "--only", "transport", "--vms", "60", stdout=out)
    text = out.getvalue()
    # Each row ends with the machine's cores and load while it was measured: drop that column.
    rows = {
        label: value.rsplit(" | ", 1)[0].strip()
        for label, value in re.findall(r"^  (\S.*?)\s+\| (.+)$", text, re.M)
    }
    assert re.match(r"\d+ cores, load average [\d.]+ / [\d.]+ / [\d.]+$", rows["machine"])
    in_process, https = (cell.strip() for cell in rows["ARM requests per sync"].split("|"))
    assert in_process == https and int(in_process) > 0
    first = next(v for k, v in rows.items() if re.match(r"first sync of [\d,]+ VMs", k))
    assert all(float(cell) > 0 for cell in first.split("|"))
    assert [c.strip() for c in rows["deallocations succeeded"].split("|")] == ["5 / 5", "5 / 5"]
    assert rows["HTTPS endpoint"].startswith("https://127.0.0.1:")
