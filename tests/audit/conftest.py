"""Fixtures of the audit tests: a checkpoint key and trail of their own, and events on demand."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _checkpoint_key(settings, tmp_path):
    """No test signs with (or creates) the project's var/audit_checkpoint_key."""
    settings.AUDIT_CHECKPOINT_KEY = ""
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(tmp_path / "audit_checkpoint_key")


@pytest.fixture(autouse=True)
def _checkpoint_trail(settings, tmp_path):
    """Checkpoints go to a trail file of the test's own, and not to this machine's syslog."""
    settings.AUDIT_CHECKPOINT_TRAIL = str(tmp_path / "audit-trail" / "checkpoints.jsonl")
    settings.AUDIT_CHECKPOINT_SYSLOG = "off"
    return tmp_path / "audit-trail" / "checkpoints.jsonl"


@pytest.fixture
def events(db):
    """``events(n, **record_kwargs)``: append n events and return them."""
    from tests.audit.factories import append_events

    return append_events


@pytest.fixture
def quiet_login():
    """Sign a test client in without recording auth.login, so a test sees only its events."""
    from django.contrib.auth.signals import user_logged_in

    from contoso_images.audit import receivers

    def _login(client, user):
        user_logged_in.disconnect(receivers.on_logged_in, dispatch_uid="contoso_images.audit.login")
        try:
            client.force_login(user)
        finally:
            user_logged_in.connect(
                receivers.on_logged_in, dispatch_uid="contoso_images.audit.login"
            )
        return client

    return _login


@pytest.fixture
def auditor_client(client, auditor_user, quiet_login):
    return quiet_login(client, auditor_user)


@pytest.fixture
def operator_client(client, operator_user, quiet_login):
    return quiet_login(client, operator_user)


@pytest.fixture
def reviewer_client(client, reviewer_user, quiet_login):
    return quiet_login(client, reviewer_user)
