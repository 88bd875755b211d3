"""Fixtures shared by the whole suite: users in each role, clients signed in as them."""

from __future__ import annotations

import os
import secrets

# Playwright's sync API runs an event loop in the main thread; Django refuses ORM calls while
# any loop runs unless told otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"


# --- The audit record's database roles (PostgreSQL) -------------------------------------------
# The test database is created and migrated by its owner: DATABASE_URL's user (CI: postgres), or
# DATABASE_OWNER_URL's when that is set (then the suite runs as DATABASE_URL's runtime role, as
# production does). Without an owner URL a runtime role is made here, granted what migrate
# grants (INSERT and SELECT only on the audit tables), and named in AUDIT_RUNTIME_ROLE, so that
# audit_verify checks the role the application would run as, and tests can connect as it.
_RUNTIME_PASSWORD = secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    from contoso_images.audit import roles

    roles.begin_owner()  # nothing to do without DATABASE_OWNER_URL


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.conf import settings
    from django.db import connection

    from contoso_images.audit import roles

    with django_db_blocker.unblock():
        roles.end_owner()
        made = None
        if connection.vendor == "postgresql" and not roles.owner_credentials():
            made = _runtime_role_for_tests(connection)
            previous, settings.AUDIT_RUNTIME_ROLE = settings.AUDIT_RUNTIME_ROLE, made
    yield
    if made:
        settings.AUDIT_RUNTIME_ROLE = previous
    with django_db_blocker.unblock():
        roles.begin_owner()  # the test database is dropped by its owner


def _runtime_role_for_tests(connection) -> str:
    """Create (once per cluster) a login role named after the test database and grant it what
    migrate grants the runtime role."""
    from contoso_images.audit import roles

    name = f"{connection.settings_dict['NAME']}_runtime"[:63]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(f"{verb} ROLE {roles.quote(name)} LOGIN PASSWORD %s", [_RUNTIME_PASSWORD])
    roles.grant_runtime(connection, name)
    return name


@pytest.fixture
def audit_runtime_role(django_db_blocker):
    """Credentials of the role the application runs as on PostgreSQL ({USER, PASSWORD, HOST,
    PORT, NAME}), for tests that connect as it; the test is skipped on SQLite."""
    from django.conf import settings
    from django.db import connection

    from contoso_images.audit import roles

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's roles")
    db = connection.settings_dict
    if roles.owner_credentials():
        user, password = db["USER"], db.get("PASSWORD") or ""
    else:
        user, password = settings.AUDIT_RUNTIME_ROLE, _RUNTIME_PASSWORD
    return {
        "USER": user,
        "PASSWORD": password,
        "HOST": db.get("HOST") or "",
        "PORT": db.get("PORT") or "",
        "NAME": db["NAME"],
    }


def _user_in(group_name: str | None, username: str):
    user = UserFactory(username=username, password=PASSWORD)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def operator_user(db):
    return _user_in("operators", "olivia-operator")


@pytest.fixture
def reviewer_user(db):
    return _user_in("reviewers", "rui-reviewer")


@pytest.fixture
def auditor_user(db):
    return _user_in("auditors", "ada-auditor")


@pytest.fixture
def roleless_user(db):
    return _user_in(None, "nobody")


@pytest.fixture
def operator_client(client, operator_user):
    client.force_login(operator_user)
    return client


@pytest.fixture
def reviewer_client(client, reviewer_user):
    client.force_login(reviewer_user)
    return client


@pytest.fixture
def auditor_client(client, auditor_user):
    client.force_login(auditor_user)
    return client


@pytest.fixture(autouse=True)
def _isolated_emulator_state(tmp_path_factory, settings):
    """No test touches the demo's emulator state: each gets an empty state file of its own."""
    from contoso_images.azure import clear_client_cache

    settings.AZURE_MODE = "emulator"
    settings.AZURE_SUBSCRIPTION_IDS = []
    settings.AZURE_EMULATOR_STATE = str(tmp_path_factory.mktemp("arm") / "state.sqlite3")
    clear_client_cache()
    yield
    clear_client_cache()


@pytest.fixture
def emulator(settings):
    """The seeded "Contoso pilot" tenant with instant transitions, wired into the gateway."""
    from contoso_images.arm_emulator import Emulator
    from contoso_images.azure import clear_client_cache

    emu = Emulator(settings.AZURE_EMULATOR_STATE)
    emu.reset()
    emu.seed_contoso_pilot()
    emu.set_durations(all=0)
    clear_client_cache()
    return emu


@pytest.fixture
def inventory(db, emulator):
    """The emulated tenant synced into the database: {vm name: VirtualMachine}."""
    from vmops.models import VirtualMachine
    from vmops.services import inventory_sync_all

    inventory_sync_all()
    return {vm.name: vm for vm in VirtualMachine.objects.select_related("subscription")}


@pytest.fixture
def real_broker(monkeypatch):
    """Send tasks to the broker a real cluster reads, not inline (tests default to sync mode)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    # A task left in Redis by an aborted run would otherwise reach this run's cluster.
    get_broker().purge_queue()


@pytest.fixture
def start_qcluster(transactional_db, emulator, real_broker, tmp_path):
    """Start real qclusters on the test database and the test's emulator (environment
    variables as keyword arguments); every one is stopped at teardown, whatever happens."""
    import subprocess
    import sys
    from datetime import timedelta
    from pathlib import Path

    from django.conf import settings
    from django.utils import timezone
    from django_q.models import Schedule

    from contoso_images.devtools.cluster import cluster_environment, stop_cluster, wait_for_log

    # Only what the test does should happen: no scheduled sync or reconcile in the middle.
    Schedule.objects.update(next_run=timezone.now() + timedelta(days=1))
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(**env: str) -> subprocess.Popen:
        log_path = tmp_path / f"qcluster-{len(started)}.log"
        with log_path.open("wb") as log:
            cluster = subprocess.Popen(
                [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"],
                cwd=settings.BASE_DIR,
                env=cluster_environment(DJANGO_DEBUG="true", **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append((cluster, log_path))
        wait_for_log(log_path, "running.", cluster, timeout=60)
        return cluster

    yield start
    for cluster, log_path in started:
        stop_cluster(cluster)
        # Captured output is shown only when the test fails.
        print(f"--- {log_path.name} (exit code {cluster.returncode}) ---")
        print(log_path.read_text(errors="replace"))


# The local-cloud job (CONTOSO_LOCAL_CLOUD=1, tests/local_cloud/https_job.py): browser tests
# run on the gateway's production path against the emulator served over HTTPS.
from tests.local_cloud import https_job  # noqa: E402

if https_job.enabled():
    from tests.local_cloud.https_job import (  # noqa: F401 - fixtures, registered by import
        local_cloud_job,
        local_cloud_job_tls,
        local_cloud_job_totals,
    )
