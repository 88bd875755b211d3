"""Sections, home pages, role permissions and resource pages are registered by the apps that
own them; core draws and decides from the registrations and names no app above it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from contoso_images.core import navigation
from contoso_images.core.navigation import ResourceLinks, home_url_name, nav_entries

pytestmark = pytest.mark.django_db

CORE = Path(navigation.__file__).resolve().parent
VM_ID = "/subscriptions/s1/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-01"


def _nav(html: str) -> str:
    return html[html.index('<nav class="mainnav"') : html.index("</nav>")]


def test_sections_come_in_the_order_the_apps_registered():
    assert [s.label for s in navigation.sections()] == [
        "VMs",
        "Captures",
        "Catalog",
        "Billing guard",
        "Audit",
    ]


@pytest.mark.parametrize(
    ("fixture", "labels"),
    [
        ("operator_user", ["VMs", "Captures", "Catalog", "Billing guard"]),
        ("reviewer_user", ["VMs", "Catalog", "Billing guard"]),
        ("auditor_user", ["Captures", "Catalog", "Billing guard", "Audit"]),
        ("roleless_user", []),
    ],
)
def test_each_role_sees_the_sections_its_permissions_open(request, fixture, labels):
    user = request.getfixturevalue(fixture)
    assert [entry.label for entry in nav_entries(user)] == labels


@pytest.mark.parametrize(
    ("url", "current"),
    [
        ("/vms/", "VMs"),
        ("/captures/", "Captures"),
        ("/catalog/", "Catalog"),
        # In vmops' URLs, but a section of its own (it marked "VMs" before).
        ("/billing/", "Billing guard"),
        ("/billing/savings/", "Billing guard"),
    ],
)
def test_the_page_shown_marks_its_section(operator_client, url, current):
    nav = _nav(operator_client.get(url).content.decode())
    marked = re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', nav)
    assert marked == [current]


def test_the_audit_log_marks_the_audit_section(auditor_client):
    nav = _nav(auditor_client.get("/audit/").content.decode())
    assert '<a href="/audit/" aria-current="page">Audit</a>' in nav
    assert '<a href="/captures/">Captures</a>' in nav


def test_a_partial_asks_nothing_for_the_navigation(operator_client, monkeypatch):
    """The sections are lazy: an htmx partial, which shows no navigation, does not work
    them out (fifty row polls a minute would each pay for it)."""
    calls = []

    def counted(user, **kwargs):
        calls.append(user)
        return []

    monkeypatch.setattr("contoso_images.core.context_processors.nav_entries", counted)
    partial = {"HX-Request": "true", "HX-Target": "catalog-listing"}
    assert operator_client.get("/catalog/", headers=partial).status_code == 200
    assert calls == []
    assert operator_client.get("/catalog/").status_code == 200
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("groups", "home"),
    [
        (["operators"], "vmops:vm_list"),
        (["reviewers"], "catalog:catalog_index"),
        (["auditors"], "audit:audit_index"),
        (["auditors", "operators"], "vmops:vm_list"),
        (["auditors", "reviewers"], "catalog:catalog_index"),
        ([], None),
    ],
)
def test_home_sends_each_role_to_its_own_work(roleless_user, groups, home):
    roleless_user.groups.set(Group.objects.filter(name__in=groups))
    assert home_url_name(roleless_user) == home


def test_home_falls_back_to_what_the_user_may_only_read(roleless_user):
    from django.contrib.auth.models import Permission

    roleless_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="vmops", codename="view_virtualmachine")
    )
    assert home_url_name(roleless_user) == "vmops:vm_list"


def test_a_resource_links_to_its_page_only_for_users_who_may_open_it(operator_user, auditor_user):
    links = ResourceLinks(operator_user)
    expected = f"/vms/resource/?id={VM_ID}"
    assert links.url("Microsoft.Compute/virtualMachines", VM_ID) == expected
    # ARM types are case-insensitive.
    assert links.url("microsoft.compute/VIRTUALMACHINES", VM_ID) == expected
    assert links.url("Microsoft.Compute/images", VM_ID) == ""
    assert links.url("Microsoft.Compute/virtualMachines", "") == ""
    assert ResourceLinks(auditor_user).url("Microsoft.Compute/virtualMachines", VM_ID) == ""


def test_a_resource_link_quotes_the_id_as_the_urlencode_filter_did(operator_user):
    url = ResourceLinks(operator_user).url("Microsoft.Compute/virtualMachines", "/a b/c&d?e")
    assert url == "/vms/resource/?id=/a%20b/c%26d%3Fe"


def _strings(path: Path) -> list[str]:
    """The string literals of a module, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_core_names_no_permission_or_url_of_an_app_above_it():
    """A URL name or permission of an upper app written in core is an upward arrow the
    import contracts cannot see (migrations, which record history, aside)."""
    upward = re.compile(r"^(operations|audit|catalog|vmops|capture|devtools)[.:][a-z_]+$")
    found = [
        f"{path.relative_to(CORE)}: {text}"
        for path in CORE.rglob("*.py")
        if "migrations" not in path.parts
        for text in _strings(path)
        if upward.match(text)
    ]
    assert found == []
