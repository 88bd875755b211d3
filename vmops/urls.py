from __future__ import annotations

from django.urls import path

from contoso_images.core import converters  # noqa: F401 - registers <id:...>
from contoso_images.core.sync_views import sync_refresh, sync_status_view
from vmops import views
from vmops.services.inventory import INVENTORY

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
    path("vms/<id:pk>/", views.vm_detail, name="vm_detail"),
    path("vms/<id:pk>/row/", views.vm_row_view, name="vm_row"),
    path("vms/<id:pk>/actions/<str:kind>/", views.vm_action, name="vm_action"),
]
