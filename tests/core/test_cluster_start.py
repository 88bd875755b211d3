"""What a task cluster puts in force when it starts (issue #20, item 5): the schedule periods
and the engine's timings come from its own environment, not from the last ``migrate``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


class _Cluster:
    """Stands in for django-q2's Cluster: nothing is forked in the test process."""

    started = 0

    def start(self) -> None:
        type(self).started += 1

    def stop(self) -> None:
        pass


@pytest.mark.django_db
def test_a_cluster_start_applies_the_schedule_periods_it_is_configured_with(settings, monkeypatch):
    import django_q.cluster as dq_cluster
    from django_q.models import Schedule

    assert Schedule.objects.get(name="operations-reconcile").minutes == 1  # as migrate left it
    Schedule.objects.filter(name="heartbeat").delete()  # lost, somehow
    settings.RECONCILE_SECONDS = 300
    settings.CATALOG_SYNC_SECONDS = 601
    monkeypatch.setattr(dq_cluster, "Cluster", _Cluster)

    call_command("qcluster", "--run-once", "--no-watchdog", "--stock-queues")

    assert _Cluster.started == 1
    minutes = dict(Schedule.objects.values_list("name", "minutes"))
    assert minutes["operations-reconcile"] == 5
    assert minutes["catalog-sync"] == 11
    assert minutes["heartbeat"] == 1


@pytest.mark.django_db
def test_a_shorter_period_brings_the_next_run_forward(settings, monkeypatch):
    """A period cut from a day to a minute must not wait out the day first."""
    from datetime import timedelta

    import django_q.cluster as dq_cluster
    from django.utils import timezone
    from django_q.models import Schedule

    Schedule.objects.filter(name="operations-reconcile").update(
        minutes=24 * 60, next_run=timezone.now() + timedelta(hours=20)
    )
    settings.RECONCILE_SECONDS = 60
    monkeypatch.setattr(dq_cluster, "Cluster", _Cluster)

    call_command("qcluster", "--run-once", "--no-watchdog", "--stock-queues")

    schedule = Schedule.objects.get(name="operations-reconcile")
    assert schedule.minutes == 1
    assert schedule.next_run <= timezone.now() + timedelta(minutes=1)


def test_operation_poll_seconds_is_read_from_the_environment():
    """The cluster tests start qclusters with OPERATION_POLL_SECONDS; the settings read it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_DEBUG="true", OPERATION_POLL_SECONDS="0.5")
    env.pop("PYTEST_CURRENT_TEST", None)
    code = (
        "from django.conf import settings;"
        "from contoso_images.operations.engine import timing;"
        "print(settings.OPERATION_POLL_SECONDS, timing.poll_step())"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.5", "0.5"]


@pytest.mark.django_db
def test_an_unchanged_period_keeps_the_next_run_planned(settings, monkeypatch):
    from datetime import timedelta

    import django_q.cluster as dq_cluster
    from django.utils import timezone
    from django_q.models import Schedule

    later = timezone.now() + timedelta(hours=5)
    Schedule.objects.update(next_run=later)
    monkeypatch.setattr(dq_cluster, "Cluster", _Cluster)

    call_command("qcluster", "--run-once", "--no-watchdog", "--stock-queues")

    assert set(Schedule.objects.values_list("next_run", flat=True)) == {later}
