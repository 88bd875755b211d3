from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from vmops.choices import (
    TRANSITIONAL_POWER_STATES,
    UNFINISHED_STATUSES,
    OperationKind,
    OperationStatus,
    PowerState,
)


class Subscription(models.Model):
    """An Azure subscription the dashboard syncs, with the outcome of its last sync."""

    subscription_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)
    #: Azure throttled the last sync; the next one waits until this time.
    sync_retry_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["display_name", "subscription_id"]

    def __str__(self) -> str:
        return self.display_name or self.subscription_id


class VirtualMachine(models.Model):
    """What Azure last said about one VM (Azure is the source of truth; this is a cache).

    VMs that disappear from Azure are marked gone, never deleted, so their operation
    history stays attached.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="vms")
    resource_group = models.CharField(max_length=90)
    name = models.CharField(max_length=64)
    #: Azure resource ids are case-insensitive; stored lower-cased for matching.
    azure_id = models.CharField(max_length=400, unique=True)
    location = models.CharField(max_length=50)
    size = models.CharField(max_length=64, blank=True)
    os_type = models.CharField(max_length=16, blank=True)
    image_reference = models.JSONField(default=dict, blank=True)
    image_label = models.CharField(max_length=400, blank=True)
    hyper_v_generation = models.CharField(max_length=4, blank=True)
    power_state = models.CharField(
        max_length=16, choices=PowerState.choices, default=PowerState.UNKNOWN
    )
    provisioning_state = models.CharField(max_length=32, blank=True)
    generalized = models.BooleanField(default=False)
    tags = models.JSONField(default=dict, blank=True)
    reported_at = models.DateTimeField(help_text="When Azure last reported this VM.")
    state_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the power state was last seen changing."
    )
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "resource_group"]
        indexes = [
            models.Index(fields=["power_state"]),
            models.Index(fields=["resource_group"]),
            models.Index(fields=["location"]),
            models.Index(fields=["name"]),
        ]
        permissions = [
            ("operate_virtualmachine", "Can start, stop, deallocate and restart VMs"),
            ("capture_virtualmachine", "Can capture VMs into images"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.resource_group})"

    @property
    def is_billed_while_stopped(self) -> bool:
        return self.power_state == PowerState.STOPPED and not self.gone_at

    @property
    def row_id(self) -> str:
        """The id of this VM's row in the list, the target of its htmx swaps."""
        return f"vm-row-{self.pk}"

    @property
    def is_transitioning(self) -> bool:
        return self.power_state in TRANSITIONAL_POWER_STATES


class Operation(models.Model):
    """One action a user asked for: the unit of work, the progress bar and the audit record.

    Written before any call to Azure and never deleted. The conditional unique constraint
    allows at most one unfinished operation per VM, so a double click cannot send two.
    """

    vm = models.ForeignKey(VirtualMachine, on_delete=models.PROTECT, related_name="operations")
    kind = models.CharField(max_length=20, choices=OperationKind.choices)
    status = models.CharField(
        max_length=12, choices=OperationStatus.choices, default=OperationStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    #: The target as it was when asked for, so the record reads the same after a rename.
    target_name = models.CharField(max_length=64)
    target_resource_group = models.CharField(max_length=90)
    target_subscription_id = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: The poller's continuation token, stored as soon as Azure accepted the request.
    continuation_token = models.TextField(blank=True)
    #: Claims by a worker: the first, one per hand-off, and one per takeover after a crash.
    attempts = models.PositiveIntegerField(default=0)
    #: Times a worker put the operation back in the queue to poll it later (not failures).
    handoffs = models.PositiveIntegerField(default=0)
    #: When a task for it was last queued; the reconciler re-queues ones that sat too long.
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    #: host:pid of the worker that holds it, to find it in logs (and to kill it in a test).
    worker = models.CharField(max_length=100, blank=True)
    #: A worker holds the operation until then; after it, the reconciler may take over.
    lease_until = models.DateTimeField(null=True, blank=True)
    progress_message = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    #: ARM's own message, verbatim.
    error_message = models.TextField(blank=True)
    #: A plain sentence for people, from the gateway.
    error_summary = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    correlation_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["vm"],
                condition=Q(status__in=UNFINISHED_STATUSES),
                name="one_unfinished_operation_per_vm",
            )
        ]
        indexes = [models.Index(fields=["status", "lease_until"])]
        permissions = [
            ("view_audit", "Can see the audit log and capture history"),
            ("export_audit", "Can export the audit log"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target_name} ({self.get_status_display()})"

    @property
    def is_unfinished(self) -> bool:
        return self.status in UNFINISHED_STATUSES

    @property
    def status_label(self) -> str:
        """Queued between two polls is still "in progress" for the person watching."""
        if self.status == OperationStatus.QUEUED and self.continuation_token:
            return OperationStatus.RUNNING.label
        return self.get_status_display()
