from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a task cluster proved it was alive by running a scheduled task.

    django-q2 with the ORM broker keeps cluster statistics in the cache, which is per process
    on the default set-up, so /health/ cannot ask the cluster directly; a row it can read is
    the one signal that works on SQLite and on PostgreSQL + Redis alike.
    """

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Subscription(models.Model):
    """An Azure subscription the dashboard syncs.

    Every app that caches Azure resources hangs them on a subscription, so it lives at the
    bottom of the house; how each kind of sync of it last went is its ``SyncState`` rows.
    """

    subscription_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["display_name", "subscription_id"]

    def __str__(self) -> str:
        return self.display_name or self.subscription_id


class SyncState(models.Model):
    """How the last sync of one kind (VM inventory, catalog, ...) went for one unit, and who
    runs it now.

    The unit is a subscription for the kinds that list a subscription's resources; a kind
    whose unit is something else (a region of retail prices, say) names it in ``scope`` and
    leaves ``subscription`` empty. The row is also the guard: a sync claims it with a
    conditional UPDATE that sets a lease (``claimed_by``, ``claimed_until``), so the
    schedule, "Refresh now" and a second task cluster never run two syncs of one unit at
    once, and a claim abandoned by a dead worker expires.
    """

    kind = models.CharField(max_length=40)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, null=True, blank=True, related_name="sync_states"
    )
    #: What the sync covers when it is not a subscription (blank for subscription kinds).
    scope = models.CharField(max_length=100, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    #: Azure throttled the last sync; the next one waits until this time.
    retry_after = models.DateTimeField(null=True, blank=True)
    #: The sync running now (a token naming the worker) and until when its lease holds.
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subscription"],
                condition=models.Q(subscription__isnull=False),
                name="core_syncstate_one_per_subscription",
            ),
            models.UniqueConstraint(
                fields=["kind", "scope"],
                condition=models.Q(subscription__isnull=True),
                name="core_syncstate_one_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} sync of {self.unit_label}"

    @property
    def unit_label(self) -> str:
        """What the sync covers, as people call it (the subscription's name, or the scope)."""
        return str(self.subscription) if self.subscription_id else self.scope


class SyncRequest(models.Model):
    """When someone last asked for a sync now ("Refresh now"): one row per kind of sync.

    Every web process claims the row with a conditional UPDATE, so clicks on any number of
    processes (no shared cache needed) queue one sync per window.
    """

    name = models.CharField(max_length=40, unique=True)
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} requested at {self.requested_at:%Y-%m-%d %H:%M:%S}"
