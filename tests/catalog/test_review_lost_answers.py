"""A review's PATCH is applied in Azure and its answer lost (a 5xx, a timeout, a dropped
connection): the engine must watch the update under way, never send it again, and the record
must not say Failed while Azure carried the decision out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.services import review_decide
from contoso_images.operations import engine

pytestmark = pytest.mark.django_db

LOSSES = {
    "500": {"status": 500},
    "timeout": {"timeout": True},
    "dropped": {"drop": True},
}
#: decision -> the version it is taken on
DECISIONS = {"reject": "win2022-base 1.1.0", "deprecate": "legacy-app 1.0.0"}


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


@pytest.mark.parametrize("duration", [0, 10])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("decision", DECISIONS)
def test_a_review_patch_whose_answer_is_lost_reaches_azure_once(
    decision, loss, duration, catalog, emulator, reviewer_user
):
    emulator.set_durations(gallery_image_version_update=duration)
    extra = {}
    if decision == "deprecate":
        extra["end_of_life_date"] = (timezone.now() + timedelta(days=20)).replace(microsecond=0)
    taken = review_decide(
        image=catalog[DECISIONS[decision]],
        user=reviewer_user,
        decision=decision,
        note="x",
        **extra,
    )
    emulator.clear_request_log()
    emulator.queue_fault(method="PATCH", path_contains="/versions/", applied=True, **LOSSES[loss])

    done = engine.run(operation_id=taken.operation.pk)
    if done.status not in ("succeeded", "failed"):
        emulator.advance(duration + 1)
        done = engine.run(operation_id=taken.operation.pk)

    patches = [e for e in emulator.request_log() if e.method == "PATCH"]
    assert [e.applied for e in patches] == [True], [(e.status, e.lost) for e in patches]
    assert done.status == "succeeded", (done.error_code, done.error_summary)
