"""Multi-select review: the preview says what each ticked image would get (nothing
written), the confirmation decides each image on its own, and the results say per image
what became of it."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import CatalogImage, ReviewDecision
from contoso_images.operations import engine
from contoso_images.operations.models import Operation

pytestmark = pytest.mark.django_db

BULK = "/catalog/review/"
RESULTS = "/catalog/review/results/"


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def _ids(catalog, *names):
    return [catalog[name].pk for name in names]


def test_the_catalog_offers_ticking_to_reviewers_only(reviewer_client, operator_user, catalog):
    html = reviewer_client.get("/catalog/").content.decode()
    assert 'id="catalog-bulk"' in html
    shown = CatalogImage.objects.filter(gone_at__isnull=True).count()
    assert html.count('form="catalog-bulk"') == shown
    operator = Client()
    operator.force_login(operator_user)
    html = operator.get("/catalog/").content.decode()
    assert 'form="catalog-bulk"' not in html


def test_the_preview_says_what_each_image_gets_and_writes_nothing(reviewer_client, catalog):
    versions = _ids(catalog, "win2022-base 1.1.0", "ubuntu2204-base 1.0.0")
    managed = [i.pk for i in catalog.values() if i.kind == "managed_image"][:1]
    response = reviewer_client.get(BULK, {"decision": "reject", "image": versions + managed})
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 images will get “Reject”" in html
    assert "recorded in the catalog" in html  # the managed image
    assert "(2 carried out in Azure)" in html
    assert "Excludes it from latest in Azure." in html
    # ubuntu2204-base has one version: rejecting it leaves no latest version.
    assert "After this, the definition <strong>ubuntu2204-base</strong> has no latest" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert not ReviewDecision.objects.exists()
    assert not Operation.objects.exists()


def test_rejecting_every_version_of_a_definition_together_warns(reviewer_client, catalog):
    both = _ids(catalog, "win2022-base 1.0.0", "win2022-base 1.1.0")
    html = reviewer_client.get(BULK, {"decision": "reject", "image": both}).content.decode()
    assert "<strong>win2022-base</strong>" in html and "has no latest version" in html
    one = _ids(catalog, "win2022-base 1.1.0")
    html = reviewer_client.get(BULK, {"decision": "reject", "image": one}).content.decode()
    assert "has no latest version" not in html


def test_skipped_images_say_why(reviewer_client, reviewer_user, catalog):
    from catalog.services import review_decide

    managed = next(i for i in catalog.values() if i.kind == "managed_image")
    review_decide(image=managed, user=reviewer_user, decision="approve")
    html = reviewer_client.get(
        BULK, {"decision": "approve", "image": [managed.pk]}
    ).content.decode()
    assert "Skipped:</strong> Already approved." in html
    assert "None of the ticked images can get" in html


def test_confirming_decides_each_image_and_shows_per_image_results(
    reviewer_client, reviewer_user, catalog
):
    from contoso_images.audit.models import AuditEvent

    versions = _ids(catalog, "win2022-base 1.1.0", "legacy-app 1.0.0")
    managed = next(i for i in catalog.values() if i.kind == "managed_image")
    busy = catalog["ubuntu2204-base 1.0.0"]
    from catalog.services import review_decide

    review_decide(image=busy, user=reviewer_user, decision="approve")  # an effect under way
    ids = [*versions, managed.pk, busy.pk, 999999]
    response = reviewer_client.post(
        BULK, {"decision": "reject", "note": "Superseded.", "image": ids}
    )
    assert response.status_code == 302 and response.url == RESULTS
    assert ReviewDecision.objects.filter(decision="reject").count() == 3
    assert Operation.objects.filter(kind="catalog.reject").count() == 2
    assert AuditEvent.objects.filter(action="catalog.review.reject").count() == 3
    html = reviewer_client.get(RESULTS).content.decode()
    assert html.count("being carried out in Azure") >= 2
    assert "Decided and recorded" in html  # the managed image
    assert "Refused:</strong> Approval of" in html  # the busy version
    assert "Not in the catalog (any more)" in html
    assert 'hx-trigger="every' in html  # polls while effects run
    for op in Operation.objects.filter(kind="catalog.reject"):
        engine.run(operation_id=op.pk)
    html = reviewer_client.get(RESULTS).content.decode()
    assert html.count("Decided and carried out in Azure") == 2
    assert 'hx-trigger="every' not in html


def test_a_reason_is_still_required(reviewer_client, catalog):
    ids = _ids(catalog, "win2022-base 1.1.0")
    reviewer_client.post(BULK, {"decision": "reject", "note": "", "image": ids})
    assert not ReviewDecision.objects.exists()
    html = reviewer_client.get(RESULTS).content.decode()
    assert "needs a note" in html


@pytest.mark.parametrize("fixture", ["operator_client", "auditor_client"])
def test_only_reviewers_review_several(request, fixture, catalog):
    client = request.getfixturevalue(fixture)
    ids = _ids(catalog, "win2022-base 1.1.0")
    assert client.get(BULK, {"decision": "approve", "image": ids}).status_code == 403
    assert client.post(BULK, {"decision": "approve", "image": ids}).status_code == 403
    assert not ReviewDecision.objects.exists()


def test_permission_is_checked_per_image(reviewer_user, catalog, monkeypatch):
    """The service asks for each image again: a role lost midway refuses the rest."""
    from catalog.decisions import decision_spec
    from catalog.services.bulk_review import REFUSED, review_many

    images = [catalog["win2022-base 1.1.0"], catalog["legacy-app 1.0.0"]]
    asked = []
    original = type(reviewer_user).has_perm

    def has_perm(self, perm, obj=None):
        asked.append(perm)
        return len(asked) <= 2 and original(self, perm, obj)

    monkeypatch.setattr(type(reviewer_user), "has_perm", has_perm)
    results = review_many(images=images, user=reviewer_user, spec=decision_spec("approve"))
    assert [r.outcome for r in results][-1] == REFUSED
    assert len(asked) >= 3


def test_the_confirmation_needs_the_csrf_token(reviewer_user, catalog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)
    ids = _ids(catalog, "win2022-base 1.1.0")
    assert client.post(BULK, {"decision": "approve", "image": ids}).status_code == 403
    assert not ReviewDecision.objects.exists()


def test_nothing_ticked_is_a_400_with_a_sentence(reviewer_client, catalog):
    response = reviewer_client.get(BULK, {"decision": "approve"})
    assert response.status_code == 400
    assert "Tick at least one image" in response.content.decode()


def test_too_many_is_refused(reviewer_client, catalog, settings):
    settings.CATALOG_BULK_LIMIT = 1
    ids = _ids(catalog, "win2022-base 1.1.0", "legacy-app 1.0.0")
    assert reviewer_client.get(BULK, {"decision": "approve", "image": ids}).status_code == 400
