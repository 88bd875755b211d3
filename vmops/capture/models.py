from __future__ import annotations

from django.conf import settings
from django.db import models

from contoso_images.operations.models import Operation
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.models import VirtualMachine


class Capture(models.Model):
    """A VM made into an image: the options asked for, and the operation that carries it out.

    The operation (kind ``vm.capture``, target the VM) holds the steps, their times and ARM's
    ids; this row keeps what the operator chose, which image it produces and what became of
    it, so the history can be filtered and a failed capture retried with the same options.
    Never deleted.
    """

    vm = models.ForeignKey(VirtualMachine, on_delete=models.PROTECT, related_name="captures")
    operation = models.OneToOneField(Operation, on_delete=models.PROTECT, related_name="capture")
    kind = models.CharField(max_length=30, choices=CaptureKind.choices)
    guest_preparation = models.CharField(max_length=20, choices=GuestPreparation.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    #: The ARM id of the image (or gallery image version) this capture produces.
    image_id = models.CharField(max_length=400)
    #: What people read: the version (``1.0.3``) or the managed image's name.
    image_name = models.CharField(max_length=100)
    image_resource_group = models.CharField(max_length=90)
    gallery = models.CharField(max_length=80, blank=True)
    definition = models.CharField(max_length=80, blank=True)
    #: The image definition to create first, when it does not exist yet:
    #: ``{"publisher", "offer", "sku", "os_type", "os_state", "hyper_v_generation"}``.
    new_definition = models.JSONField(default=dict, blank=True)
    #: ``[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}, ...]``
    target_regions = models.JSONField(default=list, blank=True)
    end_of_life_date = models.DateField(null=True, blank=True)
    exclude_from_latest = models.BooleanField(default=True)
    delete_source = models.BooleanField(default=False)
    #: What Run Command printed in the guest (sysprep / waagent), when it ran.
    guest_output = models.TextField(blank=True)
    #: The failed capture this one retries (its done steps are skipped, Azure showing them).
    retry_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="retries"
    )
    abandoned_at = models.DateTimeField(null=True, blank=True)
    abandoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["image_id"])]

    def __str__(self) -> str:
        return f"Capture of {self.vm.name} into {self.image_name}"

    @property
    def target_label(self) -> str:
        """Where the image goes, in words: ``gal_contoso / webapp / 1.0.3`` or ``img-web``."""
        if self.gallery:
            return f"{self.gallery} / {self.definition} / {self.image_name}"
        return self.image_name
