"""The list's row written out in Python (``vmops.row_html.row_html``): every value from Azure
escaped in text, attributes and links, and the row endpoint's row the list's own."""

from __future__ import annotations

import re

import pytest

from tests.helpers import HX, vm_in_state
from vmops.columns import OPTIONAL_COLUMNS
from vmops.models import VirtualMachine

pytestmark = pytest.mark.django_db

NAME = '<script>alert("n")</script>'
TAG_KEY, TAG_VALUE = 'o"wn<er>&', "<img src=x onerror=alert(1)> a=b"


def _row(html: str, pk: int) -> str:
    start = html.index(f'<tr id="vm-row-{pk}"')
    return html[start : html.index("</tr>", start) + len("</tr>")]


@pytest.fixture
def hostile(operator_client, inventory):
    """A running VM whose name, tags and image label Azure sent with markup in them,
    on a list showing every column."""
    vm = vm_in_state(inventory, "running")
    VirtualMachine.objects.filter(pk=vm.pk).update(
        name=NAME,
        tags={TAG_KEY: TAG_VALUE},
        image_label='/images/"><b>img</b>',
        image_reference={"offer": "<i>offer</i>", "sku": "'sku'"},
        hyper_v_generation="V2",
        os_type="Linux",
    )
    all_columns = [c.key for c in OPTIONAL_COLUMNS]
    assert operator_client.post("/vms/columns/", {"columns": all_columns}).status_code == 302
    return VirtualMachine.objects.select_related("subscription").get(pk=vm.pk)


def test_a_hostile_name_and_tag_are_escaped_in_every_cell_of_the_list_row(operator_client, hostile):
    row = _row(operator_client.get("/vms/").content.decode(), hostile.pk)
    # No markup from Azure survives as markup, in text or in attributes.
    for raw in ("<script", "<img", "<b>", "<i>", "<er>", '"><b>'):
        assert raw not in row, raw
    escaped = "&lt;script&gt;alert(&quot;n&quot;)&lt;/script&gt;"
    assert f"<strong>{escaped}</strong>" in row
    assert f'aria-label="Tick {escaped}"' in row
    # The tag: its link url-encoded, its title and text escaped.
    assert '<a class="tag" href="?tag=o%22wn%3Cer%3E%26%3D%3Cimg%20src%3Dx%20onerror%3Dalert' in row
    key, value = "o&quot;wn&lt;er&gt;&amp;", "&lt;img src=x onerror=alert(1)&gt; a=b"
    assert f'title="Show VMs tagged {key}={value}">{key}={value}</a>' in row
    # The image: the label in a title, the offer and sku in text.
    assert 'title="/images/&quot;&gt;&lt;b&gt;img&lt;/b&gt;"' in row
    assert "&lt;i&gt;offer&lt;/i&gt; &#x27;sku&#x27;</span>" in row
    # The question asked before stopping it names the VM, escaped too.
    assert escaped in row.split('<details class="confirm"')[1]
    # Every cell is there, each with its label for narrow screens.
    for label in ("Power state", "Size", "OS", "Location", "Tags", "Image", "Age", "Actions"):
        assert f'data-label="{label}"' in row, label
    assert 'data-label="In this state since"' in row and 'data-label="Waste per day"' in row
    assert 'class="vm-row"' in row


def test_the_row_endpoint_renders_the_list_row(operator_client, hostile):
    """An htmx swap puts back the very row the list wrote (the same partial, alone)."""
    listed = _row(operator_client.get("/vms/").content.decode(), hostile.pk)
    alone = operator_client.get(
        f"/vms/{hostile.pk}/row/", headers={**HX, "HX-Current-URL": "http://testserver/vms/"}
    ).content.decode()
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')  # masked anew each time
    assert token.sub("", alone.strip()) == token.sub("", listed)
    assert re.match(rf'<tr id="vm-row-{hostile.pk}" class="vm-row">', alone.strip())


def test_the_row_endpoint_links_the_catalog_image(operator_client, hostile):
    """The row alone has no ``catalog_image_base`` in its context: it still links the catalog
    image's page, not a path relative to the row's URL."""
    from django.urls import reverse

    base = reverse("catalog:image_detail", args=[0]).removesuffix("0/")
    hostile.catalog_image_id = 42
    from vmops.row_html import row_html
    from vmops.rows import vm_row

    html = row_html(vm_row(hostile, None, can_operate=False), {"image": True})
    assert f'<a href="{base}42/" title="Created from this catalog image: ' in html
    assert "<td" in html and "col-actions" not in html and "select-col" not in html
