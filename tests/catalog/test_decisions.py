"""Each review decision is one spec: what the review buttons offer and say comes from it."""

from __future__ import annotations

import pytest

from catalog.cli import review_effect_commands
from catalog.decisions import DECISIONS, decision_spec, offered_decisions
from catalog.models import CatalogImage

pytestmark = pytest.mark.django_db


def _offered(image):
    return [(d.spec.value, d.hint) for d in offered_decisions(image)]


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("not_reviewed", ["approve", "reject", "deprecate", "comment"]),
        ("approved", ["reject", "deprecate", "comment"]),
        ("rejected", ["approve", "deprecate", "comment"]),
        ("deprecated", ["approve", "reject", "comment"]),
    ],
)
def test_the_decision_in_force_is_not_offered_again(catalog, status, offered):
    image = catalog["win2022-base 1.0.0"]
    image.review_status = status
    assert [value for value, _ in _offered(image)] == offered


def test_the_hint_says_what_happens_in_azure_only_where_something_does(catalog):
    version = catalog["win2022-base 1.0.0"]
    managed = next(i for i in catalog.values() if i.kind == "managed_image")
    assert _offered(version) == [
        ("approve", "Includes it in latest in Azure (clears exclude-from-latest)."),
        ("reject", "Excludes it from latest in Azure."),
        ("deprecate", "Excludes it from latest and sets its end of life in Azure."),
        ("comment", "Recorded with the image; its status does not change."),
    ]
    recorded = "Recorded in the catalog; nothing changes in Azure."
    assert [hint for _, hint in _offered(managed)][:3] == [recorded] * 3


def test_an_image_deleted_in_azure_takes_comments_only(catalog):
    from django.utils import timezone

    image = catalog["win2022-base 1.0.0"]
    image.gone_at = timezone.now()
    assert [value for value, _ in _offered(image)] == ["comment"]


def test_the_commands_are_the_effects_of_the_specs(catalog):
    version: CatalogImage = catalog["win2022-base 1.0.0"]
    commands = review_effect_commands(version)
    effects = [d.effect for d in DECISIONS if d.effect is not None]
    assert [c.action for c in commands] == [e.command_label for e in effects]
    assert commands[2].az.endswith("publishingProfile.endOfLifeDate=<yyyy-mm-dd>")
    assert decision_spec("deprecate").takes_end_of_life
    assert not decision_spec("approve").note_required
