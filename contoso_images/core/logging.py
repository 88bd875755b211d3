"""Log filters that keep the server console readable.

Django logs every refused request (403) with a full traceback, and every 5xx a load
balancer's health probe gets while the cluster starts (/health/ answers 503 by design until
the first heartbeat). Both drown the lines that matter; the refusals are recorded in the
audit log, and /health/ reports its own state.
"""

from __future__ import annotations

import logging
import threading

HEALTH_PATH = "/health/"

#: Per request thread: /health/ just answered 503 because no task cluster has beaten yet.
#: The development server logs each response from the thread that served it, after the
#: view returned, so the view's word reaches the access-log line of the same request.
_answered = threading.local()


def health_answered(*, starting: bool) -> None:
    """Called by /health/ on every answer: ``starting`` when it answers 503 only because the
    cluster has not beaten yet (the first minute of every start), a 503 that is expected,
    not an error to log."""
    _answered.starting = starting


def _health_was_starting() -> bool:
    starting = bool(getattr(_answered, "starting", False))
    _answered.starting = False
    return starting


class QuietRequests(logging.Filter):
    """403: one line, no traceback. /health/: not logged by django.request at all, and its
    503 before the first heartbeat not an ERROR line of the development server's access log
    (a 503 after that, when the cluster stopped, still is)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.server":
            return self._access_line(record)
        if record.name != "django.request":
            return True
        request = getattr(record, "request", None)
        if getattr(request, "path", "") == HEALTH_PATH:
            return False
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True

    def _access_line(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        request_line = str(args[0]) if args else ""
        parts = request_line.split()
        path = parts[1].split("?", 1)[0] if len(parts) > 1 else ""
        if path != HEALTH_PATH or getattr(record, "status_code", None) != 503:
            return True
        if not _health_was_starting():
            return True
        # Expected while the cluster starts: a DEBUG line, shown only when asked for.
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
