from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from contoso_images.core.models import Subscription
from contoso_images.operations.registry import Target
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState

VM_TYPE = "Microsoft.Compute/virtualMachines"
_UNREAD = object()


def _currency() -> str:
    return str(getattr(settings, "PRICES_CURRENCY", "USD")).upper()


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
    #: When a delete asked for here finished (the VM is then also gone); kept for ever.
    deleted_at = models.DateTimeField(null=True, blank=True)
    #: The catalog entry the VM was built from ("created from"): set by a deployment, and by
    #: the inventory from ``storageProfile.imageReference`` (lineage, ``vmops.deploy.lineage``).
    catalog_image = models.ForeignKey(
        "catalog.CatalogImage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

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
            ("deploy_virtualmachine", "Can create VMs from catalog images"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.resource_group})"

    @property
    def is_billed_while_stopped(self) -> bool:
        return self.power_state == PowerState.STOPPED and not self.gone_at

    @property
    def waste_label(self) -> str:
        """What a Stopped (allocated) VM costs per day for nothing ("" in other states), from
        the list's ``with_prices`` annotation (a single row reads its price itself)."""
        if not self.is_billed_while_stopped:
            return ""
        hourly: Any = getattr(self, "hourly_price", _UNREAD)
        if hourly is _UNREAD:
            found = ComputePrice.objects.filter(
                region=self.location.lower(),
                size=self.size.lower(),
                os_type="Windows" if self.os_type.lower() == "windows" else "Linux",
                currency=_currency(),
            ).first()
            hourly = found.hourly if found else None
        if hourly is None:
            return "no price found"
        return f"{hourly * 24:,.2f} {_currency()}"

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
    #: The size too, so the price totals of the filtered VMs read these rows as well.
    size = models.CharField(max_length=64)
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
                    "size",
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


class Deployment(models.Model):
    """One "Create VM" request: a catalog image, where and how, and the VMs (1 to 10) it asked
    for, each carried out by its own ``vm.create`` operation (``items``: name and operation).

    What is kept here is what the record needs; the admin password never is (it lives, only
    encrypted and only until Azure accepted the create, in :class:`DeploymentSecret`).
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    catalog_image = models.ForeignKey(
        "catalog.CatalogImage", on_delete=models.PROTECT, related_name="+"
    )
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="+")
    resource_group = models.CharField(max_length=90)
    location = models.CharField(max_length=50)
    size = models.CharField(max_length=64)
    #: ``[{"name": "web-01", "operation": 12}, ...]`` in the order the names were given.
    items = models.JSONField(default=list)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Deployment of {len(self.items)} VM(s) into {self.resource_group}"


class DeploymentSecret(models.Model):
    """The admin password of one create, encrypted (Fernet, a key derived from SECRET_KEY),
    from the form's POST until Azure accepted the PUT or the operation ended; then deleted.

    It is a row of its own, never the operation's parameters, so that nothing that copies
    parameters (the audit record, the queue, a page) can carry it.
    """

    operation = models.OneToOneField(
        "operations.Operation", on_delete=models.CASCADE, related_name="+"
    )
    ciphertext = models.BinaryField()

    def __str__(self) -> str:
        return f"Secret of operation {self.operation_id}"


# --- Prices and the billing guard ------------------------------------------------------------


class ComputePrice(models.Model):
    """A pay-as-you-go compute price per hour of one size in one region for one OS, as the
    Azure Retail Prices API last said (a cache, refreshed daily by the ``prices`` sync).

    A size without a row has no price: the pages say "no price found", never 0."""

    region = models.CharField(max_length=50)
    #: The ARM size name, lower-cased (``standard_d2s_v5``).
    size = models.CharField(max_length=64)
    #: "Linux" or "Windows": Windows meters carry the licence.
    os_type = models.CharField(max_length=8)
    currency = models.CharField(max_length=3)
    hourly = models.DecimalField(max_digits=16, decimal_places=6)
    meter_name = models.CharField(max_length=200, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["region", "size", "os_type", "currency"], name="compute_price_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.size} {self.os_type} in {self.region}: {self.hourly} {self.currency}/hour"


class DiskPrice(models.Model):
    """A managed disk tier's monthly price in one region (``P10 LRS``, ``E10 LRS``, ...)."""

    region = models.CharField(max_length=50)
    sku_name = models.CharField(max_length=30)
    currency = models.CharField(max_length=3)
    monthly = models.DecimalField(max_digits=16, decimal_places=6)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["region", "sku_name", "currency"], name="disk_price_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sku_name} in {self.region}: {self.monthly} {self.currency}/month"


class PolicyKind(models.TextChoices):
    STOPPED_FOR = "stopped_for", "Deallocate VMs Stopped (allocated) for more than N minutes"
    TIME_OF_DAY = "time_of_day", "Deallocate at a time of day"


DEFAULT_OPT_OUT_TAG = "contoso-keep-allocated=true"


class BillingPolicy(models.Model):
    """One billing-guard policy: which VMs it deallocates, and when.

    A new policy is a dry run (``enabled`` False) until someone who may manage policies
    switches it on; its operations are asked for on behalf of ``changed_by``, the person who
    last changed it, who answers for it in the audit record."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=PolicyKind.choices)
    enabled = models.BooleanField(default=False, help_text="Off: dry run only.")
    stopped_minutes = models.PositiveIntegerField(default=60)
    #: Scope: subscription ids, resource group names (lower case), tags (all must match).
    #: Empty lists: every subscription / resource group.
    subscriptions = models.JSONField(default=list, blank=True)
    resource_groups = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    #: ``key=value``: a VM carrying it is never touched, whatever else matches.
    opt_out_tag = models.CharField(max_length=300, default=DEFAULT_OPT_OUT_TAG)
    time_zone = models.CharField(max_length=64, default="UTC")
    #: Quiet hours (in ``time_zone``): the guard does nothing between them.
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    #: Time-of-day policies: when, on which weekdays (0 = Monday), and how long before the
    #: VM pages say so (and an operator may skip tonight).
    at_time = models.TimeField(null=True, blank=True)
    weekdays = models.JSONField(default=list, blank=True)
    notice_minutes = models.PositiveIntegerField(default=0)
    #: The local date a time-of-day policy last acted on (it acts once a day).
    last_acted_on = models.DateField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        permissions = [("manage_policies", "Can define billing-guard policies")]

    def __str__(self) -> str:
        return self.name

    @property
    def actor_name(self) -> str:
        return f"billing guard: {self.name}"


class PolicySkip(models.Model):
    """An operator said "skip tonight" for one VM of a time-of-day policy."""

    policy = models.ForeignKey(BillingPolicy, on_delete=models.CASCADE, related_name="skips")
    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="+")
    #: The policy's local date it skips.
    on_date = models.DateField()
    skipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    skipped_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "vm", "on_date"], name="policy_skip_once")
        ]

    def __str__(self) -> str:
        return f"{self.policy} skips {self.vm_id} on {self.on_date}"


class Deallocation(models.Model):
    """A deallocation done from here (by a person or a policy), for "Saved so far": the
    compute price at the time times how long the VM stayed deallocated."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="+")
    operation_id = models.BigIntegerField(unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    #: The policy's name when a billing guard asked for it.
    policy_name = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(db_index=True)
    #: When it was seen running (or starting) again; null while it stays deallocated.
    ended_at = models.DateTimeField(null=True, blank=True)
    #: The compute price per hour when it was deallocated (null: no price found).
    hourly = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"deallocation of {self.vm_id} at {self.started_at:%Y-%m-%d %H:%M}"
