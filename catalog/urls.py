from __future__ import annotations

from django.urls import path

from catalog import views
from catalog.services.sync import CATALOG
from contoso_images.core import converters  # noqa: F401 - registers <id:...>
from contoso_images.core.sync_views import sync_refresh, sync_status_view

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_index, name="catalog_index"),
    path("overview/", views.catalog_overview, name="catalog_overview"),
    path("refresh/", sync_refresh, {"kind": CATALOG}, name="catalog_refresh"),
    path("sync-status/", sync_status_view, {"kind": CATALOG}, name="catalog_sync_status"),
    path("resource/", views.image_by_resource, name="image_by_resource"),
    path("images/<id:pk>/", views.image_detail, name="image_detail"),
    path("images/<id:pk>/row/", views.image_row, name="image_row"),
    path("images/<id:pk>/review/", views.image_review, name="image_review"),
    path("images/<id:pk>/decide/<slug:decision>/", views.image_decide, name="image_decide"),
    path("images/<id:pk>/replication/", views.image_replication, name="image_replication"),
    path("review/", views.review_bulk, name="review_bulk"),
    path("review/results/", views.review_bulk_results, name="review_bulk_results"),
    path("marketplace/", views.marketplace_index, name="marketplace_index"),
    path("marketplace/image/", views.marketplace_image, name="marketplace_image"),
    path("marketplace/add/", views.marketplace_add, name="marketplace_add"),
]
