"""factory_boy factories: every test row is built here, never by hand."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from contoso_images.core.models import Subscription
from contoso_images.operations.models import Operation, OperationStep
from vmops.models import VM_TYPE, VirtualMachine


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription
        django_get_or_create = ("subscription_id",)

    subscription_id = factory.Sequence(lambda n: f"00000000-0000-0000-0000-{n:012d}")
    display_name = factory.Sequence(lambda n: f"Subscription {n}")


class VirtualMachineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VirtualMachine

    subscription = factory.SubFactory(SubscriptionFactory)
    resource_group = "rg-test"
    name = factory.Sequence(lambda n: f"vm-{n:05d}")
    azure_id = factory.LazyAttribute(
        lambda vm: (
            f"/subscriptions/{vm.subscription.subscription_id}/resourcegroups/"
            f"{vm.resource_group}/providers/microsoft.compute/virtualmachines/{vm.name}"
        ).lower()
    )
    location = "westeurope"
    size = "Standard_B2s"
    os_type = "Linux"
    power_state = "running"
    reported_at = factory.LazyFunction(timezone.now)
    state_changed_at = factory.LazyFunction(timezone.now)


class OperationFactory(factory.django.DjangoModelFactory):
    """An operation on a VM (pass ``vm=``); its target fields are the VM's."""

    class Meta:
        model = Operation
        exclude = ("vm",)

    vm = factory.SubFactory(VirtualMachineFactory)
    kind = "vm.deallocate"
    requested_at = factory.LazyFunction(timezone.now)
    target_id = factory.LazyAttribute(lambda op: op.vm.azure_id)
    target_key = factory.LazyAttribute(lambda op: op.target_id.lower())
    target_type = VM_TYPE
    target_name = factory.LazyAttribute(lambda op: op.vm.name)
    target_resource_group = factory.LazyAttribute(lambda op: op.vm.resource_group)
    target_subscription_id = factory.LazyAttribute(lambda op: op.vm.subscription.subscription_id)


class OperationStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperationStep

    operation = factory.SubFactory(OperationFactory)
    position = 0
    name = "deallocate"
    label = "Deallocate"
