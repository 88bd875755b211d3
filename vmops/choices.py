from __future__ import annotations

from django.db import models


class PowerState(models.TextChoices):
    """Azure's PowerState/* codes, labelled as the portal words them."""

    RUNNING = "running", "Running"
    STARTING = "starting", "Starting"
    STOPPING = "stopping", "Stopping"
    STOPPED = "stopped", "Stopped (still billed)"
    DEALLOCATING = "deallocating", "Deallocating"
    DEALLOCATED = "deallocated", "Stopped (deallocated)"
    UNKNOWN = "unknown", "Unknown"


TRANSITIONAL_POWER_STATES = (PowerState.STARTING, PowerState.STOPPING, PowerState.DEALLOCATING)


class OperationKind(models.TextChoices):
    START = "start", "Start"
    POWER_OFF = "power_off", "Stop"
    DEALLOCATE = "deallocate", "Deallocate"
    RESTART = "restart", "Restart"


class OperationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


UNFINISHED_STATUSES = (OperationStatus.QUEUED, OperationStatus.RUNNING)
