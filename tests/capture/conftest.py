from __future__ import annotations

import pytest

from contoso_images.operations import engine


@pytest.fixture(autouse=True)
def _inline_engine(settings, monkeypatch):
    """Captures run inline, fast: no real sleeps between polls, no queue."""
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def run_to_end(operation, *, rounds: int = 20):
    """Run an operation until it ends, as workers and the reconciler would."""
    from contoso_images.operations.models import Operation

    for _ in range(rounds):
        Operation.objects.filter(pk=operation.pk).update(lease_until=None)
        if operation.status == "running" or operation.status == "queued":
            Operation.objects.filter(pk=operation.pk, status="queued").update(status="queued")
        done = engine.run(operation_id=operation.pk)
        operation.refresh_from_db()
        if done is not None and not operation.is_unfinished:
            return operation
    return operation
