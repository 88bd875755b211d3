from __future__ import annotations

from django.apps import AppConfig


class CaptureConfig(AppConfig):
    """The capture pipeline: a VM made into an image, step by step, on the shared engine.

    It lives inside ``vmops/`` (a capture starts from a VM) as a layer above the rest of vmops
    and below vmops' views (an import-linter contract in pyproject.toml), yet keeps an app
    label of its own, ``capture``: its tables (``capture_capture``), its migration history
    and its URL namespace carry that name, and merging it into ``vmops`` would rename the
    tables and rewrite both apps' migrations on every installed database for no change a
    user could see.
    """

    name = "vmops.capture"
    label = "capture"
    verbose_name = "Captures"

    def ready(self) -> None:
        from contoso_images.core import navigation
        from contoso_images.operations import registry
        from vmops.capture.selectors import VIEW_PERMISSIONS
        from vmops.capture.specs import SPECS

        for spec in SPECS:
            registry.register(spec)
        # Operators see the captures they run, auditors the record of every capture.
        navigation.register_section(
            "Captures",
            url_name="capture:capture_list",
            permissions=VIEW_PERMISSIONS,
            order=20,
            namespace="capture",
        )
