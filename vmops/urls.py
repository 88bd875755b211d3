from __future__ import annotations

from django.urls import path

from contoso_images.core import converters  # noqa: F401 - registers <id:...>
from contoso_images.core.sync_views import sync_refresh, sync_status_view
from vmops import views
from vmops.services.inventory import INVENTORY
from vmops.services.prices import PRICES

app_name = "vmops"

urlpatterns = [
    path("vms/", views.vm_list, name="vm_list"),
    path("vms/overview/", views.vm_overview, name="vm_overview"),
    path("vms/export.csv", views.vm_export, name="vm_export"),
    path("vms/columns/", views.vm_columns, name="vm_columns"),
    path("vms/refresh/", sync_refresh, {"kind": INVENTORY}, name="vm_refresh"),
    path("vms/sync-status/", sync_status_view, {"kind": INVENTORY}, name="vm_sync_status"),
    path("vms/bulk/", views.vm_bulk, name="vm_bulk"),
    path("vms/bulk/<id:pk>/", views.vm_bulk_results, name="vm_bulk_results"),
    path("vms/deallocate-stopped/", views.vm_bulk_deallocate, name="vm_bulk_deallocate"),
    path("vms/resource/", views.vm_by_resource, name="vm_by_resource"),
    path("vms/new/", views.vm_deploy, name="vm_deploy"),
    path("vms/deployments/<id:pk>/", views.deployment_detail, name="deployment_detail"),
    path("vms/<id:pk>/delete/", views.vm_delete, name="vm_delete"),
    path("vms/delete/", views.vm_delete_many, name="vm_delete_many"),
    path("vms/<id:pk>/", views.vm_detail, name="vm_detail"),
    path("vms/<id:pk>/row/", views.vm_row_view, name="vm_row"),
    path("vms/<id:pk>/actions/<str:kind>/", views.vm_action, name="vm_action"),
    path("vms/<id:pk>/skip-tonight/", views.vm_skip_tonight, name="vm_skip_tonight"),
    path("billing/", views.billing, name="billing"),
    path("billing/savings/", views.savings_page, name="savings"),
    path("billing/prices/refresh/", sync_refresh, {"kind": PRICES}, name="prices_refresh"),
    path(
        "billing/prices/sync-status/", sync_status_view, {"kind": PRICES}, name="prices_sync_status"
    ),
    path("billing/policies/new/", views.policy_edit, name="policy_new"),
    path("billing/policies/<id:pk>/", views.policy_detail, name="policy_detail"),
    path("billing/policies/<id:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("billing/policies/<id:pk>/switch/", views.policy_switch, name="policy_switch"),
    path("billing/policies/<id:pk>/delete/", views.policy_delete, name="policy_delete"),
]
