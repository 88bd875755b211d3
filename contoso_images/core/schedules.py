"""The one registry of recurring work: each app registers its schedules when it is ready.

django-q2 keeps schedules as rows; they are created or updated after every ``migrate`` from
this registry, so a changed interval setting applies at the next migrate and a fresh database
and an upgraded one end up with the same schedules. django-q2 counts intervals in whole
minutes, so an interval in seconds is rounded up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


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
    """Create or update every registered schedule."""
    for task in registered():
        schedule_model.objects.update_or_create(
            name=task.name,
            defaults={
                "func": task.func,
                "schedule_type": "I",
                "minutes": interval_minutes(task, settings),
                "repeats": -1,
            },
        )


def ensure_after_migrate(**kwargs: Any) -> None:
    """post_migrate receiver."""
    from django.conf import settings
    from django_q.models import Schedule

    ensure(Schedule, settings)
