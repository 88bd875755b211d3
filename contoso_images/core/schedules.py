"""The one registry of recurring work: each app registers its schedules when it is ready.

django-q2 keeps schedules as rows; they are created or updated from this registry after every
``migrate`` (so a fresh database and an upgraded one end up with the same schedules) and
every time a task cluster starts (``manage.py qcluster``), so a changed period setting
applies with the cluster that runs it. django-q2 counts intervals in whole minutes, so an
interval in seconds is rounded up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class ScheduledTask:
    name: str
    #: The dotted path of the task function (django-q2 stores it as text).
    func: str
    #: The setting holding the interval in seconds.
    every: str


_registry: dict[str, ScheduledTask] = {}


def register(name: str, func: str, *, every: str) -> None:
    """Declare a schedule (idempotent: apps call it from ``AppConfig.ready``)."""
    _registry[name] = ScheduledTask(name, func, every)


def registered() -> list[ScheduledTask]:
    return sorted(_registry.values(), key=lambda task: task.name)


def minutes_of(seconds: float) -> int:
    """A period in seconds as django-q2 runs it: whole minutes, rounded up, at least one."""
    return max(1, math.ceil(seconds / 60))


def interval_minutes(task: ScheduledTask, settings: Any) -> int:
    return minutes_of(getattr(settings, task.every, 60))


def ensure(schedule_model: Any, settings: Any) -> None:
    """Create or update every registered schedule with the period ``settings`` give it.

    A period made shorter brings the next run forward (a reconciler cut from daily to every
    minute does not wait out the day first); any other change keeps the next run planned.
    """
    for task in registered():
        minutes = interval_minutes(task, settings)
        before = schedule_model.objects.filter(name=task.name).values("minutes").first()
        schedule, _ = schedule_model.objects.update_or_create(
            name=task.name,
            defaults={
                "func": task.func,
                "schedule_type": "I",
                "minutes": minutes,
                "repeats": -1,
            },
        )
        if before is not None and (before["minutes"] or 0) > minutes:
            soonest = timezone.now() + timedelta(minutes=minutes)
            schedule_model.objects.filter(pk=schedule.pk, next_run__gt=soonest).update(
                next_run=soonest
            )


def ensure_after_migrate(**kwargs: Any) -> None:
    """post_migrate receiver."""
    from django.conf import settings
    from django_q.models import Schedule

    ensure(Schedule, settings)
