"""Fixtures: a seeded emulator on a temporary state file and SDK clients wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.mgmt.compute import ComputeManagementClient

from contoso_images.arm_emulator import Emulator
from contoso_images.azure.emulator_transport import EmulatorTransport, StaticCredential

PROD_RG = "rg-web-prod"


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "emulator.sqlite3"


@pytest.fixture
def emu(state_path: Path) -> Iterator[Emulator]:
    emulator = Emulator(state_path)
    emulator.seed_contoso_pilot()
    emulator.set_durations(all=0)
    yield emulator
    emulator.store.close()


@pytest.fixture
def sub(emu: Emulator) -> str:
    return emu.subscription_ids()[0]


def make_client(emu: Emulator, sub: str, **kwargs: object) -> ComputeManagementClient:
    return ComputeManagementClient(
        StaticCredential(), sub, transport=EmulatorTransport(emu), **kwargs
    )


@pytest.fixture
def client(emu: Emulator, sub: str) -> ComputeManagementClient:
    return make_client(emu, sub)


def codes(view: object) -> list[str]:
    return [s.code for s in view.statuses]  # type: ignore[attr-defined]


def power(client: ComputeManagementClient, rg: str, vm: str) -> str:
    view = client.virtual_machines.instance_view(rg, vm)
    return next(c for c in codes(view) if c.startswith("PowerState/"))
