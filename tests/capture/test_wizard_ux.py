"""The capture pages as people meet them (issue 20): the token stays out of URLs, digits are
ASCII, a refused form says so at the top, wording follows the OS, identifiers do not break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.capture.test_views import _form
from vmops.capture.models import Capture

pytestmark = pytest.mark.django_db


def _attributes(html: str) -> dict[str, list[str]]:
    """Every attribute value of the page, by attribute name."""
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r'\s([a-zA-Z-]+)="([^"]*)"', html):
        found.setdefault(name, []).append(value)
    return found


def test_the_background_request_never_puts_the_csrf_token_in_a_url(operator_client, inventory):
    vm = inventory["web-prod-01"]
    response = operator_client.get(f"/vms/{vm.pk}/capture/")
    html = response.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    attributes = _attributes(html)
    urls = attributes.get("href", []) + attributes.get("action", []) + attributes.get("hx-get", [])
    assert all(token not in url for url in urls)
    # The form's hx-get sends only the two fields the pre-flight panel reads, and htmx puts
    # them in the query string: the hidden token must not be one of them.
    form = html[html.index('class="card capture-form"') - 200 :][:1200]
    assert 'hx-params="kind,guest_preparation"' in form
    assert 'hx-include="this"' not in form
    # The token reaches htmx requests as a header, set once on <body>.
    assert f'"X-CSRFToken": "{token}"' in html


def test_the_wizard_triggers_are_valid_htmx_syntax(operator_client, inventory):
    """htmx reads ``from:`` up to the next space: a selector with spaces must be in
    parentheses, or each leftover word is an ``htmx:syntax:error`` on every load."""
    vm = inventory["web-prod-01"]
    html = operator_client.get(f"/vms/{vm.pk}/capture/").content.decode()
    for trigger in _attributes(html).get("hx-trigger", []):
        for spec in re.split(r",\s*(?![^()]*\))", trigger):
            words = re.sub(r"\([^)]*\)", "()", spec).split()
            event, options = words[0], words[1:]
            assert event, trigger
            for option in options:
                assert re.fullmatch(
                    r"(changed|once|consume|(delay|throttle|queue|from|target):\S+)", option
                ), f"{option!r} in hx-trigger {trigger!r} is a syntax error for htmx"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "１.０.０"),
        ("version", "1.0.٣"),
        ("source_replicas", "２"),
        ("replicas_1", "٢"),
        ("end_of_life_date", "２０３０-01-01"),
    ],
)
def test_numbers_are_ascii_digits_only(operator_client, inventory, field, value):
    vm = inventory["web-prod-01"]
    response = operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm, **{field: value}))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert not Capture.objects.exists()


def test_the_ascii_integer_field_still_reads_plain_numbers():
    from vmops.capture.forms import AsciiIntegerField

    field = AsciiIntegerField(min_value=1)
    assert field.clean("12") == 12
    with pytest.raises(Exception, match="digits 0–9"):
        field.clean("１２")


def test_the_history_ignores_a_page_or_date_in_other_digits(auditor_client):
    response = auditor_client.get("/captures/?page=２&since=２０２６-01-01")
    assert response.status_code == 200
    assert response.context["page"].number == 1
    assert not response.context["form"].is_valid()


def test_a_refused_form_starts_with_a_summary_linking_to_each_field(operator_client, inventory):
    vm = inventory["web-prod-01"]
    response = operator_client.post(
        f"/vms/{vm.pk}/capture/",
        _form(vm, guest_preparation=None, confirm_name="web-prod", version="1.2"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    summary_at = html.index('id="error-summary"')
    assert summary_at < html.index("Pre-flight, read from Azure now")
    assert summary_at < html.index("Nothing about the VM forbids this capture")
    summary = html[summary_at : html.index("</div>", summary_at)]
    assert "data-focus-on-load" in summary and 'tabindex="-1"' in summary
    assert "3 things to fix" in summary
    for anchor in ("#id_guest_preparation_0", "#id_confirm_name", "#id_version"):
        assert f'href="{anchor}"' in summary
        assert f'id="{anchor[1:]}"' in html  # each link lands on its field
    assert "Type web-prod-01 exactly" in summary


def test_a_form_without_errors_has_no_summary(operator_client, inventory):
    vm = inventory["web-prod-01"]
    assert "error-summary" not in operator_client.get(f"/vms/{vm.pk}/capture/").content.decode()


def test_the_focus_moves_to_the_summary():
    app_js = Path(settings.BASE_DIR, "static", "js", "app.js").read_text()
    assert 'querySelector("[data-focus-on-load]")' in app_js


def test_the_wizard_speaks_of_each_os_own_generalization(operator_client, inventory):
    linux = operator_client.get(f"/vms/{inventory['api-prod-01'].pk}/capture/").content.decode()
    windows = operator_client.get(f"/vms/{inventory['web-prod-01'].pk}/capture/").content.decode()
    assert "sysprep shut down" not in linux and "waagent -deprovision" in linux
    assert "a VM that sysprep shut down" in windows


def test_storage_types_and_regions_do_not_break_mid_word(operator_client, inventory):
    vm = inventory["web-prod-01"]
    operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm, storage_1="Premium_LRS"))
    capture = Capture.objects.get()
    html = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert '<span class="ident">Premium_LRS</span>' in html
    assert '<span class="ident">northeurope</span>' in html
    css = Path(settings.BASE_DIR, "static", "css", "capture.css").read_text()
    assert re.search(r"\.ident\s*\{[^}]*white-space:\s*nowrap", css)


def test_capture_pages_mark_every_time_for_the_viewers_zone(operator_client, inventory):
    vm = inventory["web-prod-01"]
    operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm))
    capture = Capture.objects.get()
    for html in (
        operator_client.get(f"/captures/{capture.pk}/").content.decode(),
        operator_client.get("/captures/").content.decode(),
    ):
        times = re.findall(r"<time [^>]*>", html)
        assert times and all("data-local=" in t for t in times), times
        # The footer offers UTC on hover only once app.js knows the zone is not UTC.
        assert '<span class="utc-on-hover" hidden>; hover a time to see it in UTC</span>' in html
