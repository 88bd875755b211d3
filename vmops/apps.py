from __future__ import annotations

from django.apps import AppConfig


class VmopsConfig(AppConfig):
    """VM inventory, power actions and the VM pages.

    ``ready`` registers the power actions' specs and the inventory schedule, and tells core
    what it cannot know without naming vmops: the VMs section and who lands on it, which
    vmops permissions each role holds, where a VM's page is, and that operators (who capture
    into the catalog) may refresh the catalog.
    """

    name = "vmops"
    verbose_name = "VM operations"

    def ready(self) -> None:
        from catalog.choices import REFRESH_ACTION
        from contoso_images.core import navigation, roles, schedules, sync
        from contoso_images.operations import registry
        from vmops.deploy import selectors as deploy_selectors
        from vmops.deploy.specs import DELETE, DEPLOY
        from vmops.deploy.specs import SPECS as DEPLOY_SPECS
        from vmops.models import VM_TYPE
        from vmops.services import guard
        from vmops.services.inventory import INVENTORY_SYNC, REFRESH_INVENTORY
        from vmops.services.prices import PRICES_SYNC, REFRESH_PRICES, on_operation_event
        from vmops.specs import POWER_SPECS
        from vmops.views.deploy import vms_built_from_panel

        for spec in (*POWER_SPECS, *DEPLOY_SPECS):
            registry.register(spec)
        sync.register(INVENTORY_SYNC)
        sync.register(PRICES_SYNC)
        # "Saved so far" starts when a deallocation done from here succeeds.
        registry.listen(on_operation_event)
        # How the billing guard's deallocations ended, with the policy as the actor.
        registry.listen(guard.on_operation_event)
        schedules.register(
            "billing-guard", "vmops.tasks.billing_guard_scheduled", every="BILLING_GUARD_SECONDS"
        )

        view, operate = "vmops.view_virtualmachine", "vmops.operate_virtualmachine"
        navigation.register_section(
            "VMs",
            url_name="vmops:vm_list",
            permissions=[view],
            order=10,
            namespace="vmops",
            # Operators start here first; anyone else who may see VMs, after their own work.
            home=[(operate, 10), (view, 40)],
        )
        navigation.register_section(
            "Billing guard",
            url_name="vmops:billing",
            permissions=["vmops.view_billingpolicy", "vmops.manage_policies"],
            order=35,
            namespace="billing",
            path_prefix="/billing/",
        )
        navigation.register_resource_link(VM_TYPE, url_name="vmops:vm_by_resource", permission=view)
        # "Create VM" on a catalog image's page and row, and the VMs built from it on its
        # page: registered with core, so the catalog never names vmops.
        navigation.register_resource_action(
            "catalog.image",
            label="Create VM",
            url_name="vmops:vm_deploy",
            permission=DEPLOY,
            param="image",
            offered=deploy_selectors.may_deploy,
        )
        navigation.register_resource_panel(
            "catalog.image", name="vms_built_from", permission=view, render=vms_built_from_panel
        )
        policies = "vmops.view_billingpolicy"
        # Admins (superusers) define billing-guard policies (vmops.manage_policies); operators
        # see them and their dry runs, reviewers and auditors read them.
        roles.register_role_permissions(
            roles.OPERATORS,
            [view, operate, "vmops.capture_virtualmachine", DEPLOY, DELETE, policies],
        )
        roles.register_role_permissions(roles.REVIEWERS, [view, policies])
        roles.register_role_permissions(roles.AUDITORS, [policies])
        # IT staff capture into the catalog and pick images from it: they may ask Azure for
        # it now, as reviewers may (catalog's own grant).
        roles.register_action_permission(REFRESH_ACTION, operate)
        roles.register_action_permission(REFRESH_INVENTORY, operate)
        roles.register_action_permission(REFRESH_PRICES, operate)
