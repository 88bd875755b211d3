"""The time the sign-in judges tokens and sessions by: one function, so tests move it.

Tests travel in time by patching :func:`now` (a role removed in the tenant must stop
working within ``ENTRA_ROLES_MAX_AGE``; an ID token must be refused once expired) instead
of sleeping.
"""

from __future__ import annotations

import time


def now() -> float:
    """Seconds since the epoch (real time: Entra ID's ``exp``/``iat`` are real time)."""
    return time.time()
