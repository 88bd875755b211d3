"""The list reads at a glance: tiles and chart follow filters and rows, tags, image, age,
columns, CSV export, one filter per power state, times with their zone, the VM page's
commands and state line. Issue #13 defects 3, 6, 7 (skip link), 8 and its "missing" list."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import OperationFactory
from tests.helpers import HX, vm_in_state
from vmops.models import ListPreference, VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def _tile(html: str, name: str) -> int:
    match = re.search(rf'class="tile tile-{name}"[^>]*><span class="count">([\d,]+)<', html)
    assert match, name
    return int(match.group(1).replace(",", ""))


def test_tiles_and_chart_follow_the_filters(operator_client, inventory):
    everything = operator_client.get("/vms/").content.decode()
    dev = inventory["dev-jumpbox-01"].subscription
    html = operator_client.get("/vms/", {"subscription": dev.subscription_id}).content.decode()
    running = sum(
        1 for v in inventory.values() if v.subscription == dev and v.power_state == "running"
    )
    assert _tile(html, "running") == running < _tile(everything, "running")
    chart = html.split('class="bars"')[1].split("</ul>")[0]
    assert "rg-web-prod" in everything and "rg-web-prod" not in chart
    # The power state filter keeps the other tiles' counts, so they stay comparable.
    html = operator_client.get("/vms/?power_state=running").content.decode()
    assert _tile(html, "deallocated") == _tile(everything, "deallocated")


def test_tiles_and_chart_count_a_queued_action_as_the_row_shows_it(operator_client, inventory):
    """A row reading "Deallocate · queued" is in transition, not "stopped"."""
    before = operator_client.get("/vms/overview/", headers=HX).content.decode()
    vm = vm_in_state(inventory, "stopped")
    OperationFactory(vm=vm, kind="vm.deallocate")
    after = operator_client.get("/vms/overview/", headers=HX).content.decode()
    assert _tile(after, "transition") == _tile(before, "transition") + 1
    assert _tile(after, "billed") == _tile(before, "billed") - 1
    assert f"{vm.resource_group}: 1 Deallocating" in after
    html = operator_client.get("/vms/?power_state=transitioning").content.decode()
    assert vm.name in html


def test_requesting_an_action_refreshes_tiles_and_bell(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    response = operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    assert "vm-changed" in response["HX-Trigger"] and "operations-changed" in response["HX-Trigger"]


def test_one_filter_for_stopped_but_billed(operator_client, inventory):
    html = operator_client.get("/vms/").content.decode()
    select = html.split('name="power_state"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)"', select)
    assert "billed" in options and "stopped" not in options
    # An old link to power_state=stopped still shows the billed VMs.
    html = operator_client.get("/vms/?power_state=stopped").content.decode()
    assert "build-win-01" in html and "api-prod-01" not in html


def test_tags_column_and_filter(operator_client, inventory):
    html = operator_client.get("/vms/").content.decode()
    assert '<a class="tag" href="?tag=env%3Dprod"' in html
    html = operator_client.get("/vms/", {"tag": "env=dev"}).content.decode()
    assert "dev-jumpbox-01" in html and "web-prod-01" not in html
    html = operator_client.get("/vms/", {"tag": "env = prod"}).content.decode()
    assert "web-prod-01" in html and "dev-jumpbox-01" not in html
    html = operator_client.get("/vms/", {"tag": "costCenter"}).content.decode()
    assert "web-prod-01" in html
    # A key is a key, never a lookup.
    html = operator_client.get("/vms/", {"tag": "env__contains=pro"}).content.decode()
    assert "No VM matches these filters." in html


def test_image_and_age_columns(operator_client, inventory):
    vm = inventory["web-prod-01"]
    VirtualMachine.objects.filter(pk=vm.pk).update(created_at=timezone.now() - timedelta(days=40))
    html = operator_client.get("/vms/?q=web-prod-01").content.decode()
    assert ">Image</" in html and ">Age</" in html
    assert "1\xa0month</time>" in html  # timesince keeps number and unit together
    assert f'title="{vm.image_label}"' in html


def test_sync_records_when_azure_created_each_vm(inventory):
    assert all(vm.created_at is not None for vm in inventory.values())


def test_column_chooser_is_remembered_per_user(
    operator_client, operator_user, reviewer_user, inventory
):
    response = operator_client.post(
        "/vms/columns/", {"columns": ["tags", "age"], "next": "/vms/?q=web"}
    )
    assert response["Location"] == "/vms/?q=web"
    assert ListPreference.objects.get(user=operator_user).columns == ["tags", "age"]
    html = operator_client.get("/vms/").content.decode()
    assert 'class="col-tags"' in html and 'class="col-age"' in html
    assert 'class="col-size"' not in html and 'class="col-location"' not in html
    operator_client.force_login(reviewer_user)  # another user keeps the defaults
    assert 'class="col-size"' in operator_client.get("/vms/").content.decode()
    operator_client.force_login(operator_user)
    assert operator_client.post("/vms/columns/", {"columns": ["bogus"]}).status_code == 302
    assert ListPreference.objects.get(user=operator_user).columns == ["tags", "age"]


def test_export_is_the_whole_filtered_list_as_csv(operator_client, inventory):
    vm = inventory["build-win-01"]
    VirtualMachine.objects.filter(pk=vm.pk).update(tags={"=HYPERLINK(1)": "x"})
    response = operator_client.get("/vms/export.csv", {"power_state": "billed"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="vms-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    billed = {v.name for v in inventory.values() if v.power_state == "stopped"}
    assert {row["Name"] for row in rows} == billed
    row = next(r for r in rows if r["Name"] == "build-win-01")
    assert row["Subscription"] == vm.subscription.display_name
    assert row["Power state"] == "Stopped (still billed)"
    assert row["Tags"] == "'=HYPERLINK(1)=x"


def test_a_cell_a_spreadsheet_would_run_is_quoted():
    from vmops.export import safe_cell

    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("web-01") == "web-01"


def test_times_carry_their_zone_and_an_iso_timestamp(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    html = operator_client.get(f"/vms/{vm.pk}/").content.decode()
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^"]*" data-local="datetime">'
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>",
        html,
    )


def test_vm_page_never_says_none_for_a_state_not_seen_changing(operator_client, inventory):
    """Defect 3: "the state last changed None."."""
    vm = vm_in_state(inventory, "running")
    VirtualMachine.objects.filter(pk=vm.pk).update(state_changed_at=None, settled_at=None)
    html = operator_client.get(f"/vms/{vm.pk}/").content.decode()
    assert "None" not in html
    assert "has not been seen changing state since the dashboard first listed it" in html


def test_equivalent_commands_have_copy_buttons(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    html = operator_client.get(f"/vms/{vm.pk}/").content.decode()
    assert html.count('data-copy="cmd-') == 10
    assert 'aria-label="Copy the PowerShell command: Restart"' in html


def test_skip_link_goes_to_the_vm_list(operator_client, inventory):
    html = operator_client.get("/vms/").content.decode()
    assert html.index('<a class="skip-link" href="#vm-rows">Skip to VM list</a>') < html.index(
        'class="tiles"'
    )
    assert '<tbody id="vm-rows" tabindex="-1">' in html


def test_filters_apply_as_they_change_and_keep_the_url(operator_client, inventory):
    html = operator_client.get("/vms/").content.decode()
    form = html.split('<form id="vm-filters"')[1].split(">")[0]
    assert 'hx-trigger="submit, input delay:400ms"' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#vm-inventory"' in form


def test_subscriptions_are_named_not_numbered(operator_client, inventory):
    vm = inventory["web-prod-01"]
    html = operator_client.get("/vms/?q=web-prod-01").content.decode()
    row = html.split(f'id="vm-row-{vm.pk}"')[1].split("</tr>")[0]
    assert vm.subscription.display_name in row
    assert vm.subscription.subscription_id not in row
