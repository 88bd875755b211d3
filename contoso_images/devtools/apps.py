from __future__ import annotations

from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """The demo, the benchmarks and the emulator commands: tooling no runtime code imports."""

    name = "contoso_images.devtools"
    label = "devtools"
    verbose_name = "Developer tools"
