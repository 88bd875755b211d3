"""The project's settings plus the crash tests' plug-in (tests/crash_plan.py), for a qcluster
whose workers die at planned points. Only the crash tests start a cluster with these."""

from __future__ import annotations

from contoso_images.settings import *  # noqa: F403
from contoso_images.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.crash_plan.CrashPlanConfig"]
