"""The demo's console (issue 20): django-q2's per-task INFO lines left out, its errors kept;
/health/'s 503 before the first heartbeat not an ERROR line, a later 503 still one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from contoso_images.core.models import Heartbeat

PROBE = """
import logging, django
django.setup()
q = logging.getLogger("django-q")
q.info("Process-1 created task heartbeat from schedule [heartbeat]")
q.error("Failed 'contoso_images.core.tasks.heartbeat' - boom")
print(q.getEffectiveLevel())
"""


def _console(level: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "Q_LOG_LEVEL"}
    if level:
        env["Q_LOG_LEVEL"] = level
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "contoso_images.settings",
            "DJANGO_SECRET_KEY": "only-for-this-logging-test",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_demo_sets_django_q_to_warning():
    demo = Path(settings.BASE_DIR, "bin", "demo").read_text()
    assert 'export Q_LOG_LEVEL="${Q_LOG_LEVEL:-WARNING}"' in demo
    assert demo.index("Q_LOG_LEVEL") < demo.index("manage.py demo")


def test_django_q_at_warning_keeps_its_errors_and_drops_its_info_lines():
    quiet = _console("WARNING")
    assert quiet.stdout.strip() == str(logging.WARNING)
    assert "boom" in quiet.stderr
    assert "created task" not in quiet.stderr
    chatty = _console(None)  # production's default is unchanged
    assert chatty.stdout.strip() == str(logging.INFO)
    assert "created task" in chatty.stderr


def _access_line(status: str) -> logging.LogRecord:
    """The development server's access-log record, as ``WSGIRequestHandler.log_message``
    makes it."""
    logger = logging.getLogger("django.server")
    return logger.makeRecord(
        logger.name,
        logging.ERROR,
        __file__,
        0,
        '"%s" %s %s',
        ("GET /health/ HTTP/1.1", status, "120"),
        None,
        extra={"status_code": int(status), "request": None},
    )


def _console_lets_through(record: logging.LogRecord) -> bool:
    handlers = logging.getLogger("django.server").handlers
    assert handlers, "django.server goes through the console handler and its filters"
    return all(handler.filter(record) for handler in handlers)


@pytest.mark.django_db
def test_health_503_before_the_first_heartbeat_is_not_an_error_line(client):
    response = client.get("/health/")
    assert response.status_code == 503 and response.json()["cluster"]["starting"] is True
    assert not _console_lets_through(_access_line("503"))


@pytest.mark.django_db
def test_health_503_of_a_stopped_cluster_is_still_an_error_line(client):
    Heartbeat.objects.create(name="cluster", beat_at=timezone.now() - timezone.timedelta(hours=1))
    assert client.get("/health/").status_code == 503
    record = _access_line("503")
    assert _console_lets_through(record) and record.levelno == logging.ERROR


def test_other_server_errors_are_still_error_lines():
    logger = logging.getLogger("django.server")
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        __file__,
        0,
        '"%s" %s %s',
        ("GET /vms/ HTTP/1.1", "500", "120"),
        None,
        extra={"status_code": 500, "request": None},
    )
    assert _console_lets_through(record) and record.levelno == logging.ERROR
