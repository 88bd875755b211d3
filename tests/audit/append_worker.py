"""A separate process appending audit events (the concurrency test starts four).

Usage: python -m tests.audit.append_worker COUNT LABEL GO_FILE. Waits until GO_FILE exists so
that every process starts appending at the same moment, then appends COUNT events, each in
its own transaction, as web processes and workers do.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> None:
    count, label, go = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contoso_images.settings")
    import django

    django.setup()
    from contoso_images.audit.services import Subject, record

    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("never told to start")
        time.sleep(0.005)
    for i in range(count):
        record(
            action="test.concurrent_append",
            target=Subject(kind="test", id=f"{label}:{i}", name=label),
            parameters={"worker": label, "i": i},
        )


if __name__ == "__main__":
    main()
