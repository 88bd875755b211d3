"""The crash tests' plug-in: a worker of a real qcluster kills itself at a planned point.

A qcluster started with ``crash_plan_environment(plan)`` loads the settings of
``tests.crash_settings``, which add this app; its ``ready`` hooks ``die_at_planned_point``
into the engine's crash points (``contoso_images.operations.engine.crash``), and the
cluster's workers inherit it when they fork. Production never loads it.

The plan is a file of ``<operation id> <point> [<step>]`` lines; the first worker to reach a
listed point (in that step, when one is named) kills itself with SIGKILL, once (a marker
file next to the plan records it), as the OOM killer or a lost host would.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from django.apps import AppConfig

#: The environment variable naming the plan file (read by the cluster's workers).
CRASH_PLAN = "CONTOSO_CRASH_PLAN"


def crash_plan_environment(plan: Path) -> dict[str, str]:
    """What ``start_qcluster`` needs to start a cluster that follows ``plan``."""
    return {"DJANGO_SETTINGS_MODULE": "tests.crash_settings", CRASH_PLAN: str(plan)}


def die_at_planned_point(name: str, operation: Any) -> None:
    plan = os.environ.get(CRASH_PLAN)
    if not plan:
        return
    wanted = {f"{operation.pk} {name}", f"{operation.pk} {name} {operation.step}"}
    try:
        with open(plan) as lines:
            if not wanted.intersection(line.strip() for line in lines):
                return
        fd = os.open(f"{plan}.{operation.pk}.{name}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except (FileExistsError, FileNotFoundError):
        return
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


class CrashPlanConfig(AppConfig):
    name = "tests.crash_plan"
    label = "crash_plan"
    verbose_name = "Crash plan (tests only)"

    def ready(self) -> None:
        from contoso_images.operations.engine import crash

        if die_at_planned_point not in crash.hooks:
            crash.hooks.append(die_at_planned_point)
