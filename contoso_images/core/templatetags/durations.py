"""``{{ start|elapsed:end }}``: how long something took, in words people read at a glance.

Django's ``timesince`` counts in minutes, so every step of an operation "took 0 minutes";
operations take seconds to hours.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def elapsed(start: datetime | None, end: datetime | None = None) -> str:
    """``12 s``, ``3 min 5 s``, ``2 h 10 min``; until now when ``end`` is missing."""
    if start is None:
        return "—"
    seconds = max(0, int(((end or timezone.now()) - start).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
