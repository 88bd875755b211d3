from __future__ import annotations

from django.apps import AppConfig


class CaptureConfig(AppConfig):
    """The capture pipeline: a VM made into an image, step by step, on the shared engine."""

    name = "vmops.capture"
    label = "capture"
    verbose_name = "Captures"

    def ready(self) -> None:
        from contoso_images.operations import registry
        from vmops.capture.specs import SPECS

        for spec in SPECS:
            registry.register(spec)
