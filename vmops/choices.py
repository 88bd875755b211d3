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


class PowerAction(models.TextChoices):
    """The power actions, as they appear in URLs; each is the operation kind ``vm.<value>``."""

    START = "start", "Start"
    POWER_OFF = "power_off", "Stop"
    DEALLOCATE = "deallocate", "Deallocate"
    RESTART = "restart", "Restart"

    @property
    def operation_kind(self) -> str:
        return f"vm.{self.value}"
