"""Issue 20 on the audit pages: impossible dates and ids are answered, not 500s; times in the
viewer's zone; "Verify now" updates the page; options and skipped steps in words."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services import Outcome, record
from contoso_images.audit.templatetags.audit_values import readable
from contoso_images.core.converters import MAX_ID
from tests.audit.factories import simulate_capture, vm_subject

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = "99999999999999999999"


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "date_to=9999-12-31",
        "date_from=9999-12-31",
        "date_from=0001-01-01",
        "date_to=0001-01-01&date_from=0001-01-01",
        "date_from=9999-12-30&date_to=9999-12-31",
    ],
)
@pytest.mark.parametrize("page", ["/audit/", "/audit/captures/"])
def test_dates_no_day_can_be_computed_for_are_form_errors(auditor_client, events, page, query):
    events(2)
    response = auditor_client.get(f"{page}?{query}")
    assert response.status_code == 200
    assert "Choose a date between 1900-01-01 and 9998-12-31." in response.content.decode()


def test_the_export_leaves_an_impossible_date_out(auditor_client, events):
    events(2)
    response = auditor_client.post("/audit/export/", {"format": "csv", "date_to": "9999-12-31"})
    assert response.status_code == 200
    assert response["X-Audit-Events"] == "2"


def test_the_last_day_a_filter_may_name_still_filters(auditor_client, events):
    events(2)
    page = auditor_client.get("/audit/?date_to=9998-12-31").context["page"]
    assert len(page) == 2


# --- Ids beyond 64 bits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/audit/events/{BEYOND_64_BITS}/",
        f"/audit/events/{MAX_ID + 1}/",
        f"/audit/events/{MAX_ID}/",
        f"/audit/operations/{BEYOND_64_BITS}/",
        f"/audit/checkpoints/{BEYOND_64_BITS}.json",
    ],
)
def test_audit_ids_beyond_64_bits_are_not_found(auditor_client, url):
    assert auditor_client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        f"/captures/by-operation/{BEYOND_64_BITS}/",
        f"/captures/by-operation/{MAX_ID + 1}/",
        f"/captures/{BEYOND_64_BITS}/",
        f"/vms/{BEYOND_64_BITS}/",
        f"/vms/{BEYOND_64_BITS}/row/",
        f"/vms/bulk/{BEYOND_64_BITS}/",
    ],
)
def test_operator_ids_beyond_64_bits_are_not_found(operator_client, url):
    assert operator_client.get(url).status_code == 404


def test_catalog_ids_beyond_64_bits_are_not_found(reviewer_client):
    assert reviewer_client.get(f"/catalog/images/{BEYOND_64_BITS}/").status_code == 404


def test_every_integer_in_a_url_is_a_bounded_id():
    """No URL takes ``<int:...>``, which lets any number of digits reach the database."""

    def patterns(resolver: URLResolver, prefix: str = ""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from patterns(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern), entry.pattern.converters

    unbounded = [
        route
        for route, converters in patterns(get_resolver())
        if any(isinstance(c, IntConverter) for c in converters.values())
    ]
    assert unbounded == []
    assert reverse("audit:event_detail", args=[MAX_ID]) == f"/audit/events/{MAX_ID}/"


# --- Times in the viewer's zone -------------------------------------------------------------


def test_audit_pages_show_times_in_the_viewers_zone(auditor_client, events, operator_user):
    events(1)
    simulate_capture(user=operator_user)
    auditor_client.post("/audit/chain/verify/")  # a checkpoint and a verification to show
    operation = AuditEvent.objects.filter(action__endswith=".requested").first().operation_id
    for url in (
        "/audit/",
        "/audit/events/1/",
        "/audit/captures/",
        f"/audit/operations/{operation}/",
        "/audit/checkpoints/",
    ):
        html = auditor_client.get(url).content.decode()
        assert 'data-local="datetime"' in html, url
        assert " UTC</time>" in html, url  # the server's rendering, before the script's


# --- Verify now -----------------------------------------------------------------------------


def test_verify_now_from_the_page_answers_with_the_updated_panel(auditor_client, events):
    events(2)
    response = auditor_client.post(
        "/audit/chain/verify/", headers={"HX-Request": "true", "HX-Target": "chain-status"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="chain-status"')
    # Tasks run inline in tests: the run has finished, so the panel shows it and stops asking.
    assert "Intact" in html and "Verifying now" not in html and "load delay" not in html
    assert response["HX-Trigger"] == "audit-chain-verified"


def test_the_panel_asks_again_until_the_verification_has_finished(auditor_client, events):
    events(2)
    auditor_client.post("/audit/chain/verify/")
    from contoso_images.audit.selectors import latest_verification_id

    newest = latest_verification_id()
    waiting = auditor_client.get(f"/audit/chain/status/?after={newest}")
    html = waiting.content.decode()
    assert "Verifying now" in html and f"/audit/chain/status/?after={newest}" in html
    assert "HX-Trigger" not in waiting
    done = auditor_client.get(f"/audit/chain/status/?after={newest - 1}")
    assert "Verifying now" not in done.content.decode()
    assert done["HX-Trigger"] == "audit-chain-verified"
    for bogus in ("x", "-1", BEYOND_64_BITS):
        response = auditor_client.get(f"/audit/chain/status/?after={bogus}")
        assert response.status_code == 200 and "Verifying now" not in response.content.decode()


def test_the_checkpoint_list_loads_itself_again_when_a_verification_finishes(auditor_client):
    html = auditor_client.get("/audit/checkpoints/").content.decode()
    assert 'hx-trigger="audit-chain-verified from:body"' in html
    assert 'hx-post="/audit/chain/verify/"' in html


def test_only_auditors_see_the_chain_status(operator_client):
    assert operator_client.get("/audit/chain/status/?after=0").status_code == 403


# --- Options and skipped steps in words -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (False, "no"),
        (True, "yes"),
        (None, "—"),
        ("", "—"),
        ({}, "none"),
        ([], "none"),
        ([{"name": "westeurope", "count": 1}, {"name": "northeurope"}], "westeurope, northeurope"),
        (["a", "b"], "a, b"),
        ({"env": "prod", "cost": None}, "env: prod; cost: —"),
        (3, "3"),
    ],
)
def test_recorded_values_read_as_words(value, words):
    assert readable(value) == words


def test_readable_escapes_what_azure_sent():
    html = Template("{% load audit_values %}{{ value|readable }}").render(
        Context({"value": [{"name": "<b>x</b>"}]})
    )
    assert html == "&lt;b&gt;x&lt;/b&gt;"


def test_capture_options_are_shown_in_words(auditor_client, operator_user):
    simulate_capture(
        user=operator_user,
        options={
            "tags": {},
            "replicas": [{"name": "westeurope"}, {"name": "northeurope"}],
            "note": None,
        },
    )
    requested = AuditEvent.objects.get(action__endswith=".requested")
    for url in (f"/audit/operations/{requested.operation_id}/", f"/audit/events/{requested.pk}/"):
        html = auditor_client.get(url).content.decode()
        options = html.split('<dl class="options">', 1)[1].split("</dl>", 1)[0]
        assert "<dt>delete source</dt><dd>no</dd>" in options, url
        assert "<dd>westeurope, northeurope</dd>" in options, url
        assert "<dt>tags</dt><dd>none</dd>" in options and "<dt>note</dt><dd>—</dd>" in options
        assert "False" not in options and "None" not in options and "{" not in options


def test_a_skipped_step_shows_why(auditor_client, operator_user):
    simulate_capture(user=operator_user, skipped=("guest_prepare",))
    requested = AuditEvent.objects.get(action__endswith=".requested")
    record(
        action="vm.capture_gallery.step.replicate.skipped",
        target=vm_subject(),
        outcome=Outcome.SUCCEEDED,
        result={"skip_reason": "No other region was asked for."},
        operation=requested.operation_id,
    )
    for url in (f"/audit/operations/{requested.operation_id}/", "/audit/captures/"):
        html = auditor_client.get(url).content.decode()
        assert "(Azure already showed it done.)" in html, url
        assert "(No other region was asked for.)" in html, url
