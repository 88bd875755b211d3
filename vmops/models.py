from __future__ import annotations

from typing import Any

from django.conf import settings
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
    #: The last power state that is not a transition, and when it was first seen differing
    #: from the one before (null: never seen changing). A Start that Azure accepted and then
    #: failed leaves both as they were: the VM went "starting" and back, nothing settled.
    settled_power_state = models.CharField(max_length=16, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(
        null=True, blank=True, help_text="When Azure created the VM (timeCreated)."
    )
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "resource_group"]
        # One index per sort order of the list, filter column first where it filters too:
        # page 1 and the next page (a seek from the last row's key) read fifty index entries
        # in order, at any inventory size.
        indexes = [
            models.Index(fields=["name", "resource_group", "id"], name="vm_by_name"),
            models.Index(
                fields=["power_state", "name", "resource_group", "id"], name="vm_by_state"
            ),
            models.Index(fields=["resource_group", "name", "id"], name="vm_by_group"),
            models.Index(fields=["location", "name", "id"], name="vm_by_location"),
            models.Index(fields=["size", "name", "id"], name="vm_by_size"),
            models.Index(fields=["image_label", "name", "id"], name="vm_by_image"),
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
    def in_state_since(self) -> Any:
        """When the VM entered the state it shows: the transition's start while one runs,
        else when its settled state last changed (None: not seen changing)."""
        if self.is_transitioning:
            return self.state_changed_at
        return self.settled_at

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


class InventoryCount(models.Model):
    """How many live VMs share a subscription, resource group, location, OS, power state and
    generalized flag. Database triggers on the VM table keep it (``vmops.search_sql``), so
    every write counts, a sync's bulk writes and a test's ``update()`` alike.

    The list's whole-inventory figures (facets, tiles, chart, totals) read these few hundred
    rows instead of grouping every VM: the same cost at 100 VMs and at 100,000.
    """

    subscription = models.ForeignKey(
        Subscription, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    resource_group = models.CharField(max_length=90)
    location = models.CharField(max_length=50)
    os_type = models.CharField(max_length=16)
    power_state = models.CharField(max_length=16)
    generalized = models.BooleanField()
    n = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "subscription",
                    "resource_group",
                    "location",
                    "os_type",
                    "power_state",
                    "generalized",
                ],
                name="inventory_count_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.n} VMs in {self.resource_group} ({self.power_state})"


class ListPreference(models.Model):
    """The columns a user chose for the VM list (remembered across sessions and devices)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    columns = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"VM list columns of user {self.user_id}"


class BulkAction(models.Model):
    """One multi-select request: the action, who asked, the selection, and what each VM got.

    ``items`` holds, per selected VM, the outcome at request time (``queued``, ``already``
    under way, or ``skipped`` with the reason) and the operation that carries it out, so the
    results page can show each VM's live progress from the operations in one query.
    """

    kind = models.CharField(max_length=20)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    #: The selection in words ("3 ticked VMs", "all VMs matching: env=prod, Running").
    selection = models.CharField(max_length=500)
    items = models.JSONField(default=list)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} of {len(self.items)} VMs ({self.selection})"
