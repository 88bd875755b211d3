"""The recurring work of vmops, as django-q2 schedules kept in step with the settings."""

from __future__ import annotations

import math
from typing import Any

SCHEDULES = {
    # name: (function path, setting holding its interval in seconds)
    "inventory-sync": ("vmops.tasks.inventory_sync_scheduled", "INVENTORY_SYNC_SECONDS"),
    "operations-reconcile": ("vmops.tasks.operations_reconcile_scheduled", "RECONCILE_SECONDS"),
}


def ensure_schedules(Schedule: Any, settings: Any) -> None:  # noqa: N803 (a model class)
    """Create or update each schedule; django-q2 counts intervals in whole minutes."""
    for name, (func, setting) in SCHEDULES.items():
        minutes = max(1, math.ceil(getattr(settings, setting, 60) / 60))
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1},
        )


def ensure_schedules_after_migrate(**kwargs: Any) -> None:
    """post_migrate receiver, so a changed interval setting applies at the next migrate."""
    from django.conf import settings
    from django_q.models import Schedule

    ensure_schedules(Schedule, settings)
