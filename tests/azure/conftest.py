"""Fixtures that point the gateway at a fresh ARM emulator on a temporary SQLite file.

The real SDK runs end to end against it; only the transport differs from production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contoso_images.azure import VirtualMachine, clear_client_cache, vm_list_with_power_state


@pytest.fixture
def emulator_path(tmp_path: Path) -> Path:
    return tmp_path / "arm-emulator.sqlite3"


@pytest.fixture
def emulator(emulator_path: Path, settings: Any) -> Iterator[Any]:
    """A seeded "Contoso pilot" emulator with instant transitions, wired into the gateway."""
    from contoso_images.arm_emulator import Emulator

    emu = Emulator(str(emulator_path))
    emu.reset()
    emu.seed_contoso_pilot()
    emu.set_durations(all=0)
    settings.AZURE_MODE = "emulator"
    settings.AZURE_EMULATOR_STATE = str(emulator_path)
    settings.AZURE_SUBSCRIPTION_IDS = []
    settings.AZURE_MAX_RETRY_WAIT = 10
    clear_client_cache()
    yield emu
    clear_client_cache()


@pytest.fixture
def subscription_id(emulator: Any) -> str:
    return emulator.subscription_ids()[0]


@pytest.fixture
def vms(subscription_id: str) -> list[VirtualMachine]:
    return vm_list_with_power_state(subscription_id)


def pick(
    vms: list[VirtualMachine], *, power_state: str, generalized: bool = False
) -> VirtualMachine:
    """The first seeded VM in the given state (the pilot seeds every power state)."""
    for vm in vms:
        if vm.power_state == power_state and vm.generalized == generalized:
            return vm
    raise LookupError(f"no seeded VM is {power_state} (generalized={generalized})")
