from __future__ import annotations

from django.db import models


class AuditPermission(models.Model):
    """Anchor for the auditors' permissions, which belong to the audit record as a whole.

    Unmanaged and table-less: it exists so that ``audit.view_audit`` and
    ``audit.export_audit`` are real Django permissions that groups can hold.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_audit", "Can see the audit log and capture history"),
            ("export_audit", "Can export the audit log"),
        ]

    def __str__(self) -> str:
        return "Audit permissions"
