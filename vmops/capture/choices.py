from __future__ import annotations

from django.db import models


class CaptureKind(models.TextChoices):
    """The three captures Azure offers a VM, the recommended one first."""

    GALLERY_GENERALIZED = "gallery_generalized", "Generalized → gallery image version"
    MANAGED_IMAGE = "managed_image", "Generalized → managed image"
    GALLERY_SPECIALIZED = "gallery_specialized", "Specialized → gallery image version"

    @property
    def generalized(self) -> bool:
        return self != CaptureKind.GALLERY_SPECIALIZED

    @property
    def to_gallery(self) -> bool:
        return self != CaptureKind.MANAGED_IMAGE


class GuestPreparation(models.TextChoices):
    CONFIRMED = "confirmed", "I have generalized the guest OS myself"
    RUN_COMMAND = "run_command", "Generalize it now through Azure Run Command"
    NOT_NEEDED = "not_needed", "Not needed (specialized capture)"


class StorageType(models.TextChoices):
    STANDARD_LRS = "Standard_LRS", "Standard_LRS (HDD, local)"
    STANDARD_ZRS = "Standard_ZRS", "Standard_ZRS (HDD, zones)"
    PREMIUM_LRS = "Premium_LRS", "Premium_LRS (SSD, local)"
