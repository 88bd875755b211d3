"""Moving the sync state into core.SyncState keeps every row's meaning, both ways.

The database is taken back to before SyncState existed, filled through the historical
models (the inventory's state on Subscription, the catalog's in CatalogSyncState), migrated
forward, checked, then taken back again: the old columns and rows must hold what they held.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("core", "0005_sync_request_moves_to_core"),
    ("catalog", "0002_catalog_images_and_reviews"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _leaves():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_sync_state_rows_keep_their_meaning_forward_and_back():
    now = timezone.now().replace(microsecond=0)
    old = _migrate(BEFORE)
    subscription = old.get_model("core", "Subscription")
    pilot = subscription.objects.create(
        subscription_id="11111111-2222-3333-4444-555555555555",
        display_name="Contoso pilot",
        synced_at=now,
    )
    throttled = subscription.objects.create(
        subscription_id="22222222-2222-3333-4444-555555555555",
        display_name="Contoso prod",
        synced_at=now - timedelta(hours=1),
        sync_error="Azure is throttling requests for this subscription.",
        sync_retry_after=now + timedelta(minutes=20),
    )
    never = subscription.objects.create(subscription_id="33333333-2222-3333-4444-555555555555")
    old.get_model("catalog", "CatalogSyncState").objects.create(
        subscription=pilot, synced_at=now - timedelta(minutes=3), error="Listing failed."
    )

    try:
        _leaves()
        from contoso_images.core.models import SyncState

        inventory = {s.subscription_id: s for s in SyncState.objects.filter(kind="inventory")}
        assert set(inventory) == {pilot.pk, throttled.pk, never.pk}
        assert (inventory[pilot.pk].synced_at, inventory[pilot.pk].error) == (now, "")
        assert inventory[pilot.pk].retry_after is None
        assert inventory[throttled.pk].error.startswith("Azure is throttling")
        assert inventory[throttled.pk].retry_after == now + timedelta(minutes=20)
        assert inventory[never.pk].synced_at is None
        (catalog,) = SyncState.objects.filter(kind="catalog")
        assert catalog.subscription_id == pilot.pk
        assert (catalog.synced_at, catalog.error) == (now - timedelta(minutes=3), "Listing failed.")
        assert not SyncState.objects.exclude(claimed_by="").exists()

        back = _migrate(BEFORE)
        rows = {s.pk: s for s in back.get_model("core", "Subscription").objects.all()}
        assert rows[throttled.pk].sync_retry_after == now + timedelta(minutes=20)
        assert rows[throttled.pk].sync_error.startswith("Azure is throttling")
        assert rows[pilot.pk].synced_at == now
        (state,) = back.get_model("catalog", "CatalogSyncState").objects.all()
        assert (state.subscription_id, state.error) == (pilot.pk, "Listing failed.")
    finally:
        _leaves()
