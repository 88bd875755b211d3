"""Log filters that keep the server console readable.

Django logs every refused request (403) with a full traceback, and every 5xx a load
balancer's health probe gets while the cluster starts (/health/ answers 503 by design until
the first heartbeat). Both drown the lines that matter; the refusals are recorded in the
audit log, and /health/ reports its own state.
"""

from __future__ import annotations

import logging

HEALTH_PATH = "/health/"


class QuietRequests(logging.Filter):
    """403: one line, no traceback. /health/: not logged by django.request at all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "django.request":
            return True
        request = getattr(record, "request", None)
        if getattr(request, "path", "") == HEALTH_PATH:
            return False
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
