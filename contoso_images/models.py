from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a task cluster proved it was alive by running a scheduled task.

    django-q2 with the ORM broker keeps cluster statistics in the cache, which is per process
    on the default set-up, so /health/ cannot ask the cluster directly; a row it can read is
    the one signal that works on SQLite and on PostgreSQL + Redis alike.
    """

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
