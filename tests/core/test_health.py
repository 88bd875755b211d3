from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from contoso_images.core.models import Heartbeat
from contoso_images.core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_health_without_a_cluster_is_503_and_says_why(client):
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["cluster"] == {
        "ok": False,
        "broker": body["cluster"]["broker"],
        "starting": True,  # expected during a start: not logged as an error
        "detail": "No task cluster has run yet.",
    }
    assert "SECRET" not in response.content.decode().upper()


def test_health_after_a_heartbeat_is_200(client):
    heartbeat()
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["cluster"]["detail"] == "A task cluster is running."


def test_stale_heartbeat_means_cluster_dead(client):
    Heartbeat.objects.create(name="cluster", beat_at=timezone.now() - timedelta(minutes=10))
    body = client.get("/health/").json()
    assert body["ok"] is False
    assert body["cluster"]["detail"] == "The task cluster has stopped."


def test_health_is_never_cached(client):
    assert "no-cache" in client.get("/health/")["Cache-Control"]


def test_health_command_exit_code(capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("health")
    assert exc.value.code == 1
    heartbeat()
    call_command("health")
    assert '"ok": true' in capsys.readouterr().out


def test_heartbeat_schedule_exists():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="heartbeat")
    assert schedule.func == "contoso_images.core.tasks.heartbeat"
    assert schedule.minutes == 1


def test_a_stall_is_reported_within_two_heartbeat_periods(client, settings):
    settings.HEARTBEAT_SECONDS = 60
    Heartbeat.objects.create(name="cluster", beat_at=timezone.now() - timedelta(seconds=110))
    assert client.get("/health/").json()["ok"] is True
    Heartbeat.objects.filter(name="cluster").update(beat_at=timezone.now() - timedelta(seconds=125))
    assert client.get("/health/").json()["ok"] is False


def test_refusals_log_one_line_and_health_probes_none(rf):
    import logging
    import sys

    from contoso_images.core.logging import QuietRequests

    quiet = QuietRequests()
    try:
        raise PermissionError("nope")
    except PermissionError:
        exc_info = sys.exc_info()
    refused = logging.LogRecord("django.request", logging.WARNING, "", 0, "Forbidden", (), exc_info)
    refused.status_code = 403
    refused.request = rf.get("/vms/")
    assert quiet.filter(refused) and refused.exc_info is None
    probe = logging.LogRecord("django.request", logging.ERROR, "", 0, "Unavailable", (), None)
    probe.status_code = 503
    probe.request = rf.get("/health/")
    assert not quiet.filter(probe)
    other = logging.LogRecord("django.request", logging.ERROR, "", 0, "Server error", (), None)
    other.status_code = 500
    other.request = rf.get("/vms/")
    assert quiet.filter(other)


def test_health_judges_the_heartbeat_by_the_period_the_schedule_really_has(client, settings):
    """Issue #20, item 4: django-q2 runs schedules in whole minutes, so HEARTBEAT_SECONDS=61
    beats every 2 minutes; a beat 150 s old is on time, not a stopped cluster."""
    from django_q.models import Schedule

    from contoso_images.core import schedules

    settings.HEARTBEAT_SECONDS = 61
    schedules.ensure(Schedule, settings)
    assert Schedule.objects.get(name="heartbeat").minutes == 2
    Heartbeat.objects.create(name="cluster", beat_at=timezone.now() - timedelta(seconds=150))
    assert client.get("/health/").json()["ok"] is True
    Heartbeat.objects.filter(name="cluster").update(beat_at=timezone.now() - timedelta(seconds=245))
    assert client.get("/health/").json()["ok"] is False
