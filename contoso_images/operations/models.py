from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from contoso_images.operations import registry


class OperationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


UNFINISHED_STATUSES = (OperationStatus.QUEUED, OperationStatus.RUNNING)


class Operation(models.Model):
    """One piece of work a user asked for: the unit of work, the progress bar and the record.

    Written before any call to Azure and never deleted. Its target is an Azure resource named
    by its ARM id, not a row of some app, so the same engine serves a VM's power action, a
    gallery version's review effect and a VM that does not exist yet. The conditional unique
    constraint allows at most one unfinished operation per target, so a double click cannot
    send two.
    """

    #: The key of its spec in the registry (``vm.deallocate``).
    kind = models.CharField(max_length=40)
    status = models.CharField(
        max_length=12, choices=OperationStatus.choices, default=OperationStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    #: The target's ARM resource id as it was when asked for.
    target_id = models.CharField(max_length=400)
    #: ``target_id`` lower-cased: ARM ids are case-insensitive, and this is what is matched.
    target_key = models.CharField(max_length=400)
    target_type = models.CharField(max_length=100)
    #: The target as it was when asked for, so the record reads the same after a rename.
    target_name = models.CharField(max_length=260)
    target_resource_group = models.CharField(max_length=90)
    target_subscription_id = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict, blank=True)
    #: What the steps learned and must remember across workers (ids they created, baselines).
    state = models.JSONField(default=dict, blank=True)
    #: The name of the step under way (empty before the first one starts).
    step = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: The poller's continuation token of the step under way, stored as soon as Azure accepted.
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
    progress_message = models.CharField(max_length=300, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    #: ARM's own message, verbatim.
    error_message = models.TextField(blank=True)
    #: A plain sentence for people, from the gateway.
    error_summary = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    correlation_id = models.CharField(max_length=100, blank=True)
    #: When the person who asked for it saw how it ended (a failure stays unread until then).
    outcome_seen_at = models.DateTimeField(null=True, blank=True)
    #: Someone asked to stop it; the engine stops at the next step boundary, unless a step
    #: that cannot be undone has started by then (``irreversible_step``).
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: The first step that cannot be undone, once it has started: no cancel after that.
    irreversible_step = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_key"],
                condition=Q(status__in=UNFINISHED_STATUSES),
                name="one_unfinished_operation_per_target",
            )
        ]
        indexes = [
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["target_key", "-requested_at"]),
            models.Index(fields=["requested_by", "-requested_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.target_name} ({self.get_status_display()})"

    @property
    def label(self) -> str:
        """What the action is called on buttons and in records (``Deallocate``)."""
        spec = registry.find(self.kind)
        return spec.label if spec else self.kind

    @property
    def target(self) -> registry.Target:
        return registry.Target(
            id=self.target_id,
            type=self.target_type,
            name=self.target_name,
            resource_group=self.target_resource_group,
            subscription_id=self.target_subscription_id,
        )

    @property
    def is_unfinished(self) -> bool:
        return self.status in UNFINISHED_STATUSES

    @property
    def status_label(self) -> str:
        """Queued between two polls is still "in progress" for the person watching."""
        if self.status == OperationStatus.QUEUED and self.continuation_token:
            return OperationStatus.RUNNING.label
        return self.get_status_display()


class StepStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "In progress"
    SUCCEEDED = "succeeded", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class OperationStep(models.Model):
    """One step of an operation as it happened: when, how it ended, ARM's ids."""

    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=40)
    label = models.CharField(max_length=100)
    status = models.CharField(max_length=12, choices=StepStatus.choices, default=StepStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: How it ended, for people ("Azure already reported the VM as deallocated").
    message = models.CharField(max_length=300, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    correlation_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["operation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "position"], name="one_step_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"
