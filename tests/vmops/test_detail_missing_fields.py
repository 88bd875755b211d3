"""Where Azure leaves a field out, the VM page says "—" rather than guessing (issue #8).

A deallocated VM's OS disk carries no diskSizeGB and no managedDisk.storageAccountType in
Azure's answer (recorded in the Azure CLI's test_vm_create_state_modifications); the
emulator answers the same, and the page must not invent a size.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import vm_in_state

pytestmark = pytest.mark.django_db


def _disk_row(html: str) -> str:
    start = html.index("OS disk")
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def test_a_deallocated_vms_disk_size_and_storage_read_dash(operator_client, inventory):
    vm = vm_in_state(inventory, "deallocated")
    row = _disk_row(operator_client.get(f"/vms/{vm.pk}/").content.decode())
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert "—" in cells[2] and "GiB" not in row
    assert "—" in cells[3]


def test_a_running_vms_disk_shows_its_size(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    row = _disk_row(operator_client.get(f"/vms/{vm.pk}/").content.decode())
    assert "GiB" in row and "Premium_LRS" in row
