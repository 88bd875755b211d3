"""The "Create VM" and "Delete VM" forms: field-level checks here; Azure's rules against
Azure's facts in ``preflight``, each problem then put next to its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from contoso_images import azure
from vmops.deploy.preflight import MAX_BATCH


def parse_tags(text: str) -> dict[str, str]:
    """``key=value`` per line (or comma-separated); ValidationError with the bad line."""
    tags: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise forms.ValidationError(f"“{line}” is not key=value.")
        if len(key) > 512 or len(value) > 256 or any(c in key for c in "<>%&\\?/"):
            raise forms.ValidationError(
                f"“{key}”: a tag name is at most 512 characters without < > % & \\ ? /, "
                "and its value at most 256 characters."
            )
        tags[key] = value
    if len(tags) > 40:
        raise forms.ValidationError("At most 40 tags can be added here (Azure allows 50).")
    return tags


class DeployForm(forms.Form):
    name = forms.CharField(
        max_length=64,
        label="VM name",
        help_text="With several VMs, each gets this name and a number: name-01, name-02 …",
    )
    count = forms.IntegerField(min_value=1, max_value=MAX_BATCH, initial=1, label="How many VMs")
    resource_group = forms.CharField(max_length=90, label="Resource group")
    location = forms.ChoiceField(label="Region")
    size = forms.ChoiceField(label="Size")
    subnet = forms.ChoiceField(label="Subnet")
    admin_username = forms.CharField(max_length=64, initial="azureuser", label="Admin user")
    ssh_public_key = forms.CharField(
        required=False,
        label="SSH public key",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    admin_password = forms.CharField(
        required=False,
        label="Admin password",
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Sent to Azure once and kept nowhere: not shown again, not in any record.",
    )
    latest = forms.BooleanField(
        required=False,
        label="Always the latest version of its definition",
        help_text="Builds from the definition's latest version in the region (which may be "
        "newer than this one, and not reviewed yet) instead of this version.",
    )
    tags = forms.CharField(
        required=False,
        label="Tags",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "env=dev\ncost-center=1234"}),
        help_text="key=value, one per line. owner, catalog-image and created-by are added.",
    )

    def __init__(
        self,
        *args: Any,
        regions: list[str],
        sizes: list[azure.ResourceSku],
        subnets: list[tuple[azure.VirtualNetwork, azure.Subnet]],
        linux: bool,
        gallery: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["location"].choices = [(r, r) for r in regions]
        # A new region changes the sizes and subnets offered: the whole form is redrawn
        # (with what was typed, never the password); other fields redraw the commands only.
        fields["location"].widget.attrs.update(
            {
                "hx-get": reverse("vmops:vm_deploy"),
                "hx-target": "#deploy-form",
                "hx-select": "#deploy-form",
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
                "hx-params": "not admin_password,csrfmiddlewaretoken",
            }
        )
        fields["size"].choices = [
            (s.name, f"{s.name} · {s.vcpus} vCPU{'s' if s.vcpus != 1 else ''}, {s.memory_gb:g} GiB")
            for s in sizes
        ]
        fields["subnet"].choices = [
            (
                subnet.id,
                f"{vnet.name}/{subnet.name} ({subnet.address_prefix}) · {vnet.resource_group}",
            )
            for vnet, subnet in subnets
        ]
        if not gallery:
            del fields["latest"]
        if linux:
            fields["admin_password"].help_text = (
                "Optional with an SSH key. " + fields["admin_password"].help_text
            )
        else:
            del fields["ssh_public_key"]

    def clean_tags(self) -> dict[str, str]:
        return parse_tags(self.cleaned_data.get("tags") or "")


class DeleteForm(forms.Form):
    confirm_name = forms.CharField(max_length=64, label="Type the VM's name to confirm")
    force = forms.BooleanField(
        required=False,
        label="Force deletion",
        help_text="Skips the graceful shutdown; use only for a VM stuck in a failed state.",
    )

    def __init__(self, *args: Any, vm_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vm_name = vm_name

    def clean_confirm_name(self) -> str:
        typed = str(self.cleaned_data["confirm_name"]).strip()
        if typed != self.vm_name:
            raise forms.ValidationError(f"Type {self.vm_name} exactly to delete it.")
        return typed
