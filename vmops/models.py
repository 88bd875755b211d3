from __future__ import annotations

from django.db import models

from contoso_images.core.models import Subscription
from contoso_images.operations.registry import Target
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState

VM_TYPE = "Microsoft.Compute/virtualMachines"


class VirtualMachine(models.Model):
    """What Azure last said about one VM (Azure is the source of truth; this is a cache).

    VMs that disappear from Azure are marked gone, never deleted, so the page of a deleted VM
    still shows what was done to it. Its operations are found by its ARM id (``azure_id``).
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

    @property
    def target(self) -> Target:
        """This VM as the target of an operation."""
        return Target(
            id=self.azure_id,
            type=VM_TYPE,
            name=self.name,
            resource_group=self.resource_group,
            subscription_id=self.subscription.subscription_id,
        )
