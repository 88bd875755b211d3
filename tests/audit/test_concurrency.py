"""Concurrent appends from separate processes keep one chain: 4 processes × 500 events, with a
checkpoint queued every 500 events taken while the others append."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from contoso_images.audit import chain
from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services.checkpoints import claims_from_file
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
        "AUDIT_CHECKPOINT_TRAIL": str(tmp_path / "trail.jsonl"),
        "AUDIT_CHECKPOINT_SYSLOG": "off",
        "AUDIT_CHECKPOINT_EVENTS": "500",
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
    checkpoints = [row for row in rows if row["action"] == "audit.checkpoint"]
    assert checkpoints, outputs
    assert [row["sequence"] for row in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == PROCESSES * EACH + len(checkpoints)
    # Each checkpoint, signed while others appended, vouches for the chain as it ended up.
    key = (tmp_path / "key").read_text().strip().encode()
    claims = claims_from_file(tmp_path / "trail.jsonl", key) if checkpoints else []
    assert len(claims) == len(checkpoints)
    report = chain.verify(rows, claims=claims)
    assert report.ok and report.checkpoints == len(checkpoints), report.problems
    # Every process got its turn, and each one's events are in its own order.
    per_worker: dict[str, list[int]] = {}
    for row in rows:
        if row["action"] == "audit.checkpoint":
            continue
        data = chain.json.loads(row["parameters"])
        per_worker.setdefault(data["worker"], []).append(data["i"])
    assert sorted(per_worker) == [f"w{n}" for n in range(PROCESSES)]
    assert all(order == list(range(EACH)) for order in per_worker.values())
