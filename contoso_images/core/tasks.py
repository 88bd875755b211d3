from __future__ import annotations

from django.utils import timezone

from contoso_images.core.models import Heartbeat


def heartbeat() -> str:
    """Scheduled every minute: proves to /health/ that a cluster runs tasks."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="cluster", defaults={"beat_at": now})
    return now.isoformat()
