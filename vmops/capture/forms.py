"""The capture wizard's form: every input checked against Azure's rules before anything is
queued, each error next to its field.

Choices (galleries, definitions, regions) come from Azure, read by the view; the live checks
that need Azure (collisions, mismatches) run in ``vmops.capture.preflight`` and land on the
field they are about.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from contoso_images import azure
from vmops.capture import preflight
from vmops.capture.choices import CaptureKind, GuestPreparation, StorageType
from vmops.capture.services import CaptureOptions
from vmops.models import VirtualMachine

#: Azure's naming rules (Microsoft's resource-name rules for Microsoft.Compute and groups).
IMAGE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
DEFINITION_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-]$")
RESOURCE_GROUP = re.compile(r"^[\w().-]{0,89}[\w()-]$")
#: ASCII digits only: ``\d`` and ``int()`` also accept other scripts' digits (``１.０.０``),
#: which Azure refuses.
VERSION = re.compile(r"^([0-9]{1,10})\.([0-9]{1,10})\.([0-9]{1,10})$")
ASCII_INTEGER = re.compile(r"^[0-9]{1,10}$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
INT32 = 2**31 - 1
EXTRA_REGIONS = 3
MAX_REPLICAS = 100


class AsciiIntegerField(forms.IntegerField):
    """A whole number written with the digits 0–9 only.

    Django's IntegerField calls ``int()``, which reads full-width or Arabic-Indic digits
    (``２``) as numbers: a replica count Azure never saw typed would be queued.
    """

    def to_python(self, value: Any) -> int | None:
        if value not in self.empty_values and not ASCII_INTEGER.match(str(value).strip()):
            raise forms.ValidationError("Write a whole number with the digits 0–9.", code="invalid")
        return super().to_python(value)


class AsciiDateField(forms.DateField):
    """A date written YYYY-MM-DD with the digits 0–9 only (``strptime`` reads any script's
    digits)."""

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, str) and value.strip() and not ISO_DATE.match(value.strip()):
            raise forms.ValidationError(
                "Write the date as YYYY-MM-DD with the digits 0–9.", code="invalid"
            )
        return super().to_python(value)


class CaptureForm(forms.Form):
    kind = forms.ChoiceField(
        choices=CaptureKind.choices,
        initial=CaptureKind.GALLERY_GENERALIZED,
        widget=forms.RadioSelect,
        label="Kind of capture",
    )
    guest_preparation = forms.ChoiceField(
        choices=[
            (GuestPreparation.CONFIRMED, GuestPreparation.CONFIRMED.label),
            (GuestPreparation.RUN_COMMAND, GuestPreparation.RUN_COMMAND.label),
        ],
        required=False,
        widget=forms.RadioSelect,
        label="Guest preparation",
    )
    #: "resource group/gallery"; matched case-insensitively, as ARM matches names.
    gallery = forms.CharField(required=False, max_length=200, label="Gallery", widget=forms.Select)
    definition = forms.ChoiceField(required=False, label="Image definition")
    new_definition_name = forms.CharField(required=False, max_length=80, label="New definition")
    publisher = forms.CharField(required=False, max_length=128, label="Publisher")
    offer = forms.CharField(required=False, max_length=64, label="Offer")
    sku = forms.CharField(required=False, max_length=64, label="SKU")
    version = forms.CharField(required=False, max_length=32, label="Version")
    source_replicas = AsciiIntegerField(
        min_value=1, max_value=MAX_REPLICAS, initial=1, label="Replicas in the VM's region"
    )
    source_storage = forms.ChoiceField(
        choices=StorageType.choices, initial=StorageType.STANDARD_LRS, label="Storage"
    )
    end_of_life_date = AsciiDateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="End of life"
    )
    exclude_from_latest = forms.BooleanField(
        required=False, initial=True, label="Exclude from latest until a manager approves it"
    )
    image_name = forms.CharField(required=False, max_length=80, label="Image name")
    image_resource_group = forms.CharField(required=False, max_length=90, label="Resource group")
    delete_source = forms.BooleanField(
        required=False, label="Delete the source VM once the image is verified"
    )
    confirm_name = forms.CharField(required=False, max_length=64, label="Type the VM's name")

    def __init__(
        self,
        *args: Any,
        vm: VirtualMachine,
        detail: azure.VirtualMachineDetail | None,
        galleries: list[azure.Gallery],
        definitions: dict[str, list[azure.GalleryImageDefinition]],
        regions: list[azure.Region],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.vm, self.detail = vm, detail
        self.galleries = {f"{g.resource_group}/{g.name}": g for g in galleries}
        self.definitions = {key.lower(): defs for key, defs in definitions.items()}
        self.region_names = {r.name: r.display_name for r in regions}
        self.warnings: list[str] = []
        gallery_widget = self.fields["gallery"].widget
        assert isinstance(gallery_widget, forms.Select)
        gallery_widget.choices = [(key, g.name) for key, g in self.galleries.items()]
        names = sorted({d.name for defs in definitions.values() for d in defs})
        self._set_choices("definition", [("", "A new definition…"), *((n, n) for n in names)])
        region_choices = [("", "—"), *sorted(self.region_names.items(), key=lambda r: r[1])]
        for i in range(1, EXTRA_REGIONS + 1):
            self.fields[f"region_{i}"] = forms.ChoiceField(
                required=False, choices=region_choices, label=f"Region {i + 1}"
            )
            self.fields[f"replicas_{i}"] = AsciiIntegerField(
                required=False, min_value=1, max_value=MAX_REPLICAS, label="Replicas"
            )
            self.fields[f"storage_{i}"] = forms.ChoiceField(
                required=False, choices=StorageType.choices, label="Storage"
            )
        self.fields["image_resource_group"].initial = vm.resource_group
        self.fields["image_name"].initial = f"img-{vm.name}-{timezone.now():%Y%m%d}"[:80]

    def gallery_of(self, key: str) -> azure.Gallery | None:
        """The chosen gallery; resource-group and gallery names are case-insensitive."""
        return {k.lower(): g for k, g in self.galleries.items()}.get((key or "").lower())

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    # --- validation ------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind_value = data.get("kind")
        if not kind_value:
            return data
        kind = CaptureKind(kind_value)
        if kind.generalized:
            self._clean_generalized(data)
        elif data.get("delete_source"):
            self.add_error(
                "delete_source", "A specialized capture keeps its VM: it cannot delete it."
            )
        if kind.to_gallery:
            self._clean_gallery(data)
        else:
            self._clean_managed_image(data)
        if not self.errors and self.detail is not None:
            self._check_with_azure(data)
        return data

    def _clean_generalized(self, data: dict[str, Any]) -> None:
        if data.get("guest_preparation") not in GuestPreparation.values:
            self.add_error(
                "guest_preparation",
                "Say whether the guest OS was generalized, or let the dashboard do it.",
            )
        if data.get("confirm_name") != self.vm.name:
            self.add_error(
                "confirm_name",
                f"Type {self.vm.name} exactly: marking the VM generalized cannot be undone, "
                "and it can never be started again.",
            )

    def _clean_gallery(self, data: dict[str, Any]) -> None:
        gallery = self.gallery_of(data.get("gallery", ""))
        if gallery is None:
            self.add_error("gallery", "Choose the gallery that will hold the image.")
        if data.get("definition"):
            key = (data.get("gallery") or "").lower()
            if gallery is not None and data["definition"].lower() not in {
                d.name.lower() for d in self.definitions.get(key, [])
            }:
                self.add_error("definition", "This definition is not in the chosen gallery.")
        else:
            self._clean_new_definition(data)
        version = data.get("version", "")
        match = VERSION.match(version)
        if not match or any(int(part) > INT32 for part in match.groups()):
            self.add_error(
                "version",
                "Write the version as three whole numbers, Major.Minor.Patch (for example "
                "1.0.3), each at most 2,147,483,647.",
            )
        self._clean_regions(data)
        eol = data.get("end_of_life_date")
        if eol and eol <= date.today():
            self.add_error("end_of_life_date", "The end-of-life date must be in the future.")

    def _clean_new_definition(self, data: dict[str, Any]) -> None:
        name = data.get("new_definition_name", "")
        if not DEFINITION_NAME.match(name):
            self.add_error(
                "new_definition_name",
                "Name the new definition: 1–80 letters, digits, periods, hyphens or "
                "underscores, starting and ending with a letter or digit.",
            )
        limits = {"publisher": 128, "offer": 64, "sku": 64}
        for field, limit in limits.items():
            value = data.get(field, "")
            if not value or not IDENTIFIER.match(value) or len(value) > limit:
                self.add_error(
                    field,
                    f"Up to {limit} letters, digits, periods, hyphens or underscores, "
                    "not ending with a period.",
                )

    def _clean_regions(self, data: dict[str, Any]) -> None:
        source = self.vm.location.lower()
        chosen = [source]
        for i in range(1, EXTRA_REGIONS + 1):
            region = data.get(f"region_{i}")
            if not region:
                continue
            if region not in self.region_names:
                self.add_error(f"region_{i}", "Not a region of this subscription.")
            elif region in chosen:
                self.add_error(f"region_{i}", "This region is already a target.")
            chosen.append(region)

    def _clean_managed_image(self, data: dict[str, Any]) -> None:
        if not IMAGE_NAME.match(data.get("image_name", "")):
            self.add_error(
                "image_name",
                "1–80 letters, digits, periods, hyphens or underscores, starting with a "
                "letter or digit and ending with a letter, digit or underscore.",
            )
        if not RESOURCE_GROUP.match(data.get("image_resource_group", "")):
            self.add_error(
                "image_resource_group",
                "1–90 letters, digits, periods, hyphens, underscores or parentheses, not "
                "ending with a period.",
            )

    def _check_with_azure(self, data: dict[str, Any]) -> None:
        assert self.detail is not None
        result = preflight.check(self.detail, self.target(data))
        for field, sentence in result.problems:
            self.add_error(field if field in self.fields else None, sentence)
        self.warnings = result.warnings

    # --- what the form means ---------------------------------------------------------------

    def target(self, data: dict[str, Any]) -> preflight.Target:
        options = self.options(data)
        return preflight.Target(
            kind=options.kind,
            guest_preparation=options.guest_preparation,
            image_resource_group=options.image_resource_group,
            image_name=options.image_name,
            gallery=options.gallery,
            definition=options.definition,
            new_definition=options.new_definition,
        )

    def options(self, data: dict[str, Any] | None = None) -> CaptureOptions:
        data = self.cleaned_data if data is None else data
        kind = CaptureKind(data["kind"])
        if not kind.to_gallery:
            return CaptureOptions(
                kind=kind,
                guest_preparation=data.get("guest_preparation") or "",
                image_resource_group=data.get("image_resource_group", ""),
                image_name=data.get("image_name", ""),
                delete_source=bool(data.get("delete_source")),
            )
        gallery = self.gallery_of(data.get("gallery", ""))
        definition = data.get("definition") or data.get("new_definition_name", "")
        new_definition: dict[str, Any] = {}
        if not data.get("definition") and gallery is not None:
            new_definition = {
                "location": gallery.location,
                "publisher": data.get("publisher", ""),
                "offer": data.get("offer", ""),
                "sku": data.get("sku", ""),
                "os_type": self.vm.os_type,
                "os_state": "Generalized" if kind.generalized else "Specialized",
                "hyper_v_generation": self.vm.hyper_v_generation or "V1",
            }
        return CaptureOptions(
            kind=kind,
            guest_preparation=data.get("guest_preparation") or GuestPreparation.NOT_NEEDED,
            image_resource_group=gallery.resource_group if gallery else "",
            image_name=data.get("version", ""),
            gallery=gallery.name if gallery else "",
            definition=definition,
            new_definition=new_definition,
            target_regions=self._regions(data),
            end_of_life_date=data.get("end_of_life_date"),
            exclude_from_latest=bool(data.get("exclude_from_latest")),
            delete_source=bool(data.get("delete_source")) and kind.generalized,
        )

    def _regions(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        regions = [
            {
                "name": self.vm.location.lower(),
                "replicas": data.get("source_replicas") or 1,
                "storage": data.get("source_storage") or StorageType.STANDARD_LRS,
            }
        ]
        for i in range(1, EXTRA_REGIONS + 1):
            if data.get(f"region_{i}"):
                regions.append(
                    {
                        "name": data[f"region_{i}"],
                        "replicas": data.get(f"replicas_{i}") or 1,
                        "storage": data.get(f"storage_{i}") or StorageType.STANDARD_LRS,
                    }
                )
        return regions
