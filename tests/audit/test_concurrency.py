"""Concurrent appends from separate processes keep one chain: 4 processes × 500 events."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from contoso_images.audit import chain
from contoso_images.audit.models import AuditEvent
from contoso_images.devtools.cluster import database_url

PROCESSES = 4
EACH = 500


@pytest.mark.django_db(transaction=True)
def test_four_processes_appending_at_once_keep_one_chain(tmp_path):
    go = tmp_path / "go"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_TESTING": "true",
        "DJANGO_LOG_LEVEL": "WARNING",
        "AUDIT_CHECKPOINT_KEY_FILE": str(tmp_path / "key"),
    }
    workers = [
        subprocess.Popen(  # our own module, fixed arguments
            [sys.executable, "-m", "tests.audit.append_worker", str(EACH), f"w{n}", str(go)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for n in range(PROCESSES)
    ]
    time.sleep(3)  # let every process finish importing Django before the start signal
    go.touch()
    outputs = [worker.communicate(timeout=300)[0].decode() for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * PROCESSES, outputs

    rows = list(AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS, "hash"))
    assert [row["sequence"] for row in rows] == list(range(1, PROCESSES * EACH + 1))
    report = chain.verify(rows, head=(len(rows), rows[-1]["hash"]))
    assert report.ok, report.problems
    # Every process got its turn, and each one's events are in its own order.
    per_worker: dict[str, list[int]] = {}
    for row in rows:
        data = chain.json.loads(row["parameters"])
        per_worker.setdefault(data["worker"], []).append(data["i"])
    assert sorted(per_worker) == [f"w{n}" for n in range(PROCESSES)]
    assert all(order == list(range(EACH)) for order in per_worker.values())
