"""Production settings are secure by default: checked in a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    ours = ("DJANGO_", "DATABASE_URL", "REDIS_URL")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    clean.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_SECRET_KEY_FILE": "/nonexistent/secret_key",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "DJANGO_ALLOWED_HOSTS": "images.contoso.example",
}


def test_check_deploy_is_clean_with_only_the_three_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = _manage(
        "check",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="x",
        DJANGO_SECRET_KEY_FILE="/nonexistent/secret_key",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_https_settings_can_be_relaxed_for_a_tls_terminating_proxy():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    secure = _manage("shell", "--no-imports", "-c", code, **PRODUCTION)
    assert secure.stdout.split()[:3] == ["True", "True", "31536000"], secure.stderr
    relaxed = _manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        **PRODUCTION,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SESSION_COOKIE_SECURE="false",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SECURE_PROXY_SSL_HEADER="false",
    )
    assert relaxed.stdout.split() == ["False", "False", "0", "None"], relaxed.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * 60 + "\n")
    code = "from django.conf import settings as s; print(s.SECRET_KEY)"
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="x",
        DJANGO_SECRET_KEY_FILE=str(key_file),
    )
    assert result.stdout.strip() == "k" * 60, result.stderr


DEVTOOLS_APP = "contoso_images.devtools.apps.DevtoolsConfig"
INSTALLED = "from django.conf import settings as s; print(s.INSTALLED_APPS[-1])"


def test_production_does_not_install_the_development_tools():
    installed = _manage("shell", "--no-imports", "-c", INSTALLED, **PRODUCTION)
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.strip() != DEVTOOLS_APP
    commands = _manage("help", "--commands", **PRODUCTION).stdout.split()
    assert "migrate" in commands
    for tool in ("demo", "benchmark", "emulator_seed", "emulator_log"):
        assert tool not in commands


def test_the_development_tools_are_installed_when_asked_for_or_in_debug():
    asked = _manage("help", "--commands", **PRODUCTION, DJANGO_DEVTOOLS="true").stdout.split()
    assert {"demo", "benchmark", "emulator_seed", "emulator_log"} <= set(asked)
    debug = _manage("shell", "--no-imports", "-c", INSTALLED, DJANGO_DEBUG="true")
    assert debug.stdout.strip() == DEVTOOLS_APP, debug.stderr


def test_a_test_run_keeps_its_audit_checkpoints_out_of_the_checkout(settings):
    """Tests and the qclusters they start sign and append checkpoints in a temporary
    directory: in var/ they made a demo started afterwards report its verification failed
    (checkpoints signed with keys it does not know)."""
    import os

    var = str(settings.VAR_DIR)
    for name in ("AUDIT_CHECKPOINT_TRAIL", "AUDIT_CHECKPOINT_KEY_FILE"):
        assert not getattr(settings, name).startswith(var), name
        assert os.environ[name] == getattr(settings, name)  # what a qcluster inherits
    assert settings.AUDIT_CHECKPOINT_SYSLOG == "off"
