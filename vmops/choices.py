from __future__ import annotations

from django.db import models

from contoso_images.operations import registry


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
    """The power actions as URLs and forms carry them; each is the operation kind ``vm.<value>``.

    Everything else about an action is its spec in ``vmops.power``, its label included:
    ``label`` reads it from there (through the operations registry, which holds every kind's
    spec once the apps are ready), so no second name can drift from it.
    """

    START = "start"
    POWER_OFF = "power_off"
    DEALLOCATE = "deallocate"
    RESTART = "restart"

    @property
    def operation_kind(self) -> str:
        return f"vm.{self.value}"

    @property
    def label(self) -> str:
        return registry.get(self.operation_kind).label
