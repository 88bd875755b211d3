from __future__ import annotations

from django.apps import AppConfig


class VmopsConfig(AppConfig):
    name = "vmops"
    verbose_name = "VM operations"
