"""Fixtures shared by the whole suite: users in each role, clients signed in as them."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in the main thread; Django refuses ORM calls while
# any loop runs unless told otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402

from tests.factories import UserFactory  # noqa: E402

PASSWORD = "correct-horse-battery-staple"


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
