"""factory_boy factories for catalog rows (tests/factories.py holds the shared ones)."""

from __future__ import annotations

import factory
from django.utils import timezone

from catalog.choices import ImageKind
from catalog.models import CatalogImage, ImageDefinition
from tests.factories import SubscriptionFactory


class ImageDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImageDefinition

    subscription = factory.SubFactory(SubscriptionFactory)
    resource_group = "rg-images"
    gallery_name = "gal_test"
    name = factory.Sequence(lambda n: f"def-{n:04d}")
    resource_id = factory.LazyAttribute(
        lambda d: (
            f"/subscriptions/{d.subscription.subscription_id}/resourceGroups/{d.resource_group}"
            f"/providers/Microsoft.Compute/galleries/{d.gallery_name}/images/{d.name}"
        )
    )
    resource_key = factory.LazyAttribute(lambda d: d.resource_id.lower())
    location = "westeurope"
    os_type = "Linux"
    os_state = "Generalized"
    hyper_v_generation = "V2"
    architecture = "x64"
    first_seen_at = factory.LazyFunction(timezone.now)
    reported_at = factory.LazyFunction(timezone.now)


class GalleryVersionFactory(factory.django.DjangoModelFactory):
    """A gallery version in the catalog (pass ``definition=``)."""

    class Meta:
        model = CatalogImage

    kind = ImageKind.GALLERY_VERSION
    definition = factory.SubFactory(ImageDefinitionFactory)
    subscription = factory.LazyAttribute(lambda v: v.definition.subscription)
    name = factory.Sequence(lambda n: f"1.0.{n}")
    resource_id = factory.LazyAttribute(lambda v: f"{v.definition.resource_id}/versions/{v.name}")
    resource_key = factory.LazyAttribute(lambda v: v.resource_id.lower())
    resource_group = "rg-images"
    location = factory.Iterator(["westeurope", "northeurope", "eastus"])
    os_type = factory.Iterator(["Linux", "Windows"])
    hyper_v_generation = factory.Iterator(["V2", "V1"])
    architecture = factory.Iterator(["x64", "Arm64"])
    provisioning_state = "Succeeded"
    version_sort = factory.LazyAttribute(lambda v: ".".join(p.zfill(10) for p in v.name.split(".")))
    first_seen_at = factory.LazyFunction(timezone.now)
    reported_at = factory.LazyFunction(timezone.now)


class ManagedImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogImage

    kind = ImageKind.MANAGED_IMAGE
    subscription = factory.SubFactory(SubscriptionFactory)
    name = factory.Sequence(lambda n: f"img-{n:05d}")
    resource_group = "rg-images"
    resource_id = factory.LazyAttribute(
        lambda i: (
            f"/subscriptions/{i.subscription.subscription_id}/resourceGroups/{i.resource_group}"
            f"/providers/Microsoft.Compute/images/{i.name}"
        )
    )
    resource_key = factory.LazyAttribute(lambda i: i.resource_id.lower())
    location = "westeurope"
    os_type = "Windows"
    os_state = "Generalized"
    hyper_v_generation = "V2"
    provisioning_state = "Succeeded"
    first_seen_at = factory.LazyFunction(timezone.now)
    reported_at = factory.LazyFunction(timezone.now)


class MarketplaceEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogImage

    kind = ImageKind.MARKETPLACE
    publisher = "Canonical"
    offer = "0001-com-ubuntu-server-jammy"
    sku = factory.Sequence(lambda n: f"sku-{n}")
    version = "latest"
    name = factory.LazyAttribute(lambda e: f"{e.publisher}:{e.offer}:{e.sku}:{e.version}")
    resource_key = factory.LazyAttribute(lambda e: f"marketplace:{e.name}".lower())
    location = "westeurope"
    os_type = "Linux"
    hyper_v_generation = "V2"
    architecture = "x64"
    first_seen_at = factory.LazyFunction(timezone.now)
