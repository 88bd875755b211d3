"""A refusal raised inside a caller's transaction rolls that transaction back, its own record
with it; the record must be written again once the transaction is gone (capture, review)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from catalog.services.review import review_decide
from contoso_images.audit.models import AuditEvent
from contoso_images.core.errors import ActionRefused
from tests.catalog.conftest import catalog  # noqa: F401  (fixture)
from tests.helpers import vm_in_state
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.services import CaptureOptions, capture_request
from vmops.services import vm_action_request

pytestmark = pytest.mark.django_db

OPTIONS = CaptureOptions(
    kind=CaptureKind.MANAGED_IMAGE,
    guest_preparation=GuestPreparation.NOT_NEEDED,
    image_resource_group="rg-images",
    image_name="img-refused",
)


def _refusals():
    return list(
        AuditEvent.objects.filter(action__endswith=".refused").values_list("action", flat=True)
    )


def test_a_capture_refused_while_the_vm_is_busy_is_recorded_once(inventory, operator_user):
    vm = vm_in_state(inventory, "running")
    vm_action_request(vm=vm, kind="restart", user=operator_user)
    with pytest.raises(ActionRefused):
        capture_request(vm=vm, options=OPTIONS, user=operator_user)
    assert _refusals() == ["vm.capture_managed_image.refused"]


def test_a_capture_refused_by_role_is_recorded_once(inventory, reviewer_user):
    vm = vm_in_state(inventory, "stopped")
    with pytest.raises(PermissionDenied):
        capture_request(vm=vm, options=OPTIONS, user=reviewer_user)
    assert _refusals() == ["vm.capture_managed_image.refused"]


def test_a_review_refused_while_another_is_carried_out_is_recorded(
    catalog,  # noqa: F811
    emulator,
    reviewer_user,
):
    version = catalog["win2022-base 1.1.0"]
    review_decide(image=version, user=reviewer_user, decision="reject", note="CIS fails")
    with pytest.raises(ActionRefused):
        review_decide(image=version, user=reviewer_user, decision="approve")
    assert "catalog.approve.refused" in _refusals()
