"""Whether the pieces the dashboard needs are alive, for /health/ and `manage.py health`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from contoso_images.core import schedules


def heartbeat_period_seconds() -> int:
    """The heartbeat's period as its schedule runs it: django-q2 counts whole minutes, so
    HEARTBEAT_SECONDS is rounded up as the schedule registry rounds it (61 s: 2 minutes)."""
    return 60 * schedules.minutes_of(getattr(settings, "HEARTBEAT_SECONDS", 60))


def heartbeat_stale_after() -> timedelta:
    """Two heartbeat periods: a stalled cluster is reported within that, a busy one is not."""
    return timedelta(seconds=2 * heartbeat_period_seconds())


def health_report() -> dict[str, Any]:
    """Return a JSON-ready report; `ok` is true only when the database and the cluster are alive."""
    report: dict[str, Any] = {"database": _database(), "cluster": _cluster()}
    report["azure_mode"] = settings.AZURE_MODE
    report["ok"] = report["database"]["ok"] and report["cluster"]["ok"]
    return report


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def _cluster() -> dict[str, Any]:
    from contoso_images.core.models import Heartbeat

    broker = "redis" if settings.REDIS_URL else "orm"
    try:
        beat = Heartbeat.objects.filter(name="cluster").values_list("beat_at", flat=True).first()
    except DatabaseError:
        return {"ok": False, "broker": broker, "detail": "The database is unavailable."}
    if beat is None:
        return {
            "ok": False,
            "broker": broker,
            "starting": True,
            "detail": "No task cluster has run yet.",
        }
    age = timezone.now() - beat
    ok = age <= heartbeat_stale_after()
    return {
        "ok": ok,
        "broker": broker,
        "last_heartbeat": beat.isoformat(),
        "seconds_since_heartbeat": int(age.total_seconds()),
        "detail": "A task cluster is running." if ok else "The task cluster has stopped.",
    }
