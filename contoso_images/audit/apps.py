from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit record every app writes to (its pages and chain arrive with the audit issue)."""

    name = "contoso_images.audit"
    label = "audit"
    verbose_name = "Audit"
