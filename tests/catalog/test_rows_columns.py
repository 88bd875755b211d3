"""The catalog's row (what it offers and says) and its column headers, without a page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import columns, rows
from catalog.choices import Decision
from catalog.models import ReviewDecision
from contoso_images.operations.models import Operation, OperationStatus
from tests.catalog.factories import GalleryVersionFactory, ManagedImageFactory

pytestmark = pytest.mark.django_db


def _row(image, operation=None, effect=None, **kw):
    return rows.image_row(
        image,
        operation,
        effect,
        can_review=kw.get("can_review", True),
        image_base="/catalog/images/",
    )


def _failed_effect(image, reviewer, decided_at):
    operation = Operation.objects.create(
        kind="catalog.approve",
        target_id=image.resource_id,
        target_key=image.resource_key,
        target_type="Microsoft.Compute/galleries/images/versions",
        target_name=image.name,
        status=OperationStatus.FAILED,
        requested_at=decided_at,
        finished_at=decided_at,
        error_message="Azure said no.",
    )
    return ReviewDecision.objects.create(
        image=image,
        decision=Decision.APPROVE,
        decided_by=reviewer,
        decided_at=decided_at,
        operation=operation,
    )


def test_a_failed_effect_shows_until_a_newer_status_overtakes_it(reviewer_user):
    now = timezone.now()
    image = GalleryVersionFactory(review_status_changed_at=now - timedelta(hours=1))
    effect = _failed_effect(image, reviewer_user, now)
    row = _row(image, effect=effect)
    assert row.failed_effect == effect and not row.polling and row.operation is None
    image.review_status_changed_at = now + timedelta(minutes=1)
    assert _row(image, effect=effect).failed_effect is None


def test_the_row_is_the_context_its_partials_read(settings):
    settings.CATALOG_ROW_POLL_SECONDS = 7
    image = ManagedImageFactory()
    context = _row(image, can_review=False).context()
    assert set(context) == {
        "row",
        "image",
        "operation",
        "failed_effect",
        "polling",
        "poll_seconds",
        "can_review",
        "image_base",
        "decisions",
        "no_latest",
        "leaves_no_latest",
    }
    assert context["image"] is image and context["poll_seconds"] == 7
    assert context["can_review"] is False and context["image_base"] == "/catalog/images/"


def test_headers_sort_each_way_where_the_list_knows_both_orders():
    cells = {c.label: c for c in columns.header_cells(sort="name", querystring="q=web")}
    assert cells["Image"].aria_sort == "ascending"
    assert cells["Image"].sort_link == "q=web&sort=-name"
    assert cells["Region"].sort_link == "q=web&sort=location" and cells["Region"].hide_small
    assert cells["OS"].sort_link == "" and cells["OS"].aria_sort == ""
    # Status sorts one way only: a second click keeps it.
    status = columns.header_cells(sort="status", querystring="")[1]
    assert (status.label, status.sort_link, status.aria_sort) == (
        "Status",
        "sort=status",
        "ascending",
    )
    descending = columns.header_cells(sort="-created", querystring="")[-1]
    assert (descending.sort_link, descending.aria_sort) == ("sort=created", "descending")


def test_the_filter_choices_read_distinct_facets_not_every_entry(reviewer_user):
    """The model's ordering (kind, name, pk) in a DISTINCT made the query return every entry:
    the facets then cost as much as the catalog is large."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog import selectors

    for _ in range(3):
        ManagedImageFactory(location="westeurope", os_type="Linux")
    with CaptureQueriesContext(connection) as queries:
        choices = selectors.catalog_filter_choices(user=reviewer_user)
    assert "westeurope" in choices["locations"]
    (sql,) = [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"]]
    assert "ORDER BY" not in sql
    assert '"name"' not in sql.split("FROM")[0]
