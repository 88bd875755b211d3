"""Forms of the catalog pages: the filters, a review decision, a Marketplace entry."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django import forms

from catalog.choices import ImageKind, Lifecycle, ReviewStatus
from catalog.decisions import DECISIONS
from catalog.selectors import AWAITING, SORTS
from catalog.services.replication import MAX_REPLICAS, WantedRegion
from catalog.services.replication import STORAGE_TYPES as REPLICATION_STORAGE

GENERATIONS = [("", "Any generation"), ("V1", "Gen 1 (BIOS)"), ("V2", "Gen 2 (UEFI)")]


class CatalogFilterForm(forms.Form):
    """The catalog's filters. Unknown values are ignored rather than refused: a stale
    bookmark shows the whole catalog instead of an error."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    kind = forms.ChoiceField(required=False, label="Source")
    os_type = forms.ChoiceField(required=False, label="OS")
    generation = forms.ChoiceField(required=False, choices=GENERATIONS, label="Generation")
    architecture = forms.ChoiceField(required=False, label="Architecture")
    location = forms.ChoiceField(required=False, label="Region")
    review = forms.ChoiceField(required=False, label="Review status")
    lifecycle = forms.ChoiceField(required=False, label="Lifecycle")
    include_gone = forms.BooleanField(required=False, label="Include images deleted in Azure")
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])

    def __init__(
        self, data: Any, *, choices: dict[str, list[str]], awaiting: int | None = None
    ) -> None:
        super().__init__(data)
        waiting = "Awaiting review" + (f" ({awaiting})" if awaiting is not None else "")
        self._choices("kind", "Any source", list(ImageKind.choices))
        self._choices("os_type", "Any OS", [(o, o) for o in choices["os_types"]])
        self._choices(
            "architecture", "Any architecture", [(a, a) for a in choices["architectures"]]
        )
        self._choices("location", "Any region", [(loc, loc) for loc in choices["locations"]])
        self._choices("review", "Any review status", [(AWAITING, waiting), *ReviewStatus.choices])
        self._choices("lifecycle", "Any lifecycle", list(Lifecycle.choices))

    def _choices(self, name: str, anything: str, options: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", anything), *options]

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filters (an invalid one is dropped, not an error page)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v and k != "sort"}

    def sort_order(self) -> str:
        self.is_valid()
        return str(getattr(self, "cleaned_data", {}).get("sort") or "grouped")


class ReviewForm(forms.Form):
    """One decision. The rules (a reason where one is needed, a future end of life) are the
    service's; the form only parses."""

    decision = forms.ChoiceField(choices=[(d.value, d.label) for d in DECISIONS])
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    end_of_life_date = forms.DateField(
        required=False,
        label="End of life (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def end_of_life(self) -> datetime | None:
        """The date as the end of that day, UTC (Azure stores a moment)."""
        day = self.cleaned_data.get("end_of_life_date")
        if day is None:
            return None
        return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


class BulkReviewForm(ReviewForm):
    """One decision for several ticked images (the preview's GET and the confirmation's
    POST read the same fields)."""

    image = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)

    def __init__(self, data: Any = None) -> None:
        super().__init__(data)
        ids = data.getlist("image") if data is not None and hasattr(data, "getlist") else []
        field = self.fields["image"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(i, i) for i in ids if str(i).isdigit()]
        field.error_messages["required"] = "Tick at least one image."
        field.error_messages["invalid_choice"] = "An image id is not a number."


class MarketplaceAddForm(forms.Form):
    location = forms.CharField(max_length=50)
    publisher = forms.CharField(max_length=128)
    offer = forms.CharField(max_length=128)
    sku = forms.CharField(max_length=128)
    version = forms.CharField(max_length=64, required=False, initial="latest")
    approve = forms.BooleanField(required=False, initial=True, label="Approve it now")
    note = forms.CharField(required=False, max_length=2000, label="Note")


class MarketplaceBrowseForm(forms.Form):
    location = forms.CharField(required=False, max_length=50)
    publisher = forms.CharField(required=False, max_length=128)
    offer = forms.CharField(required=False, max_length=128)
    sku = forms.CharField(required=False, max_length=128)
    q = forms.CharField(required=False, max_length=100)


#: Blank rows the replication form offers for regions to add (no script needed).
ADD_ROWS = 3


class ReplicationForm(forms.Form):
    """A version's new replication: each current region kept (with its replica count) or
    removed, and up to ``ADD_ROWS`` regions added with their replicas and storage type. The
    rules (the home region stays, a replicated region keeps its storage, a removal is
    confirmed) are the service's; the form only parses."""

    allow_removal = forms.BooleanField(
        required=False, label="Remove the unticked regions (Azure deletes their replicas)"
    )

    def __init__(
        self, data: Any = None, *, current: list[dict[str, Any]], regions: list[str], home: str
    ) -> None:
        super().__init__(data)
        self.current = current
        self.home = home
        targeted = {str(r.get("region", "")).replace(" ", "").lower() for r in current}
        offered = [("", "—")] + [(r, r) for r in regions if r not in targeted]
        storage = [(s, s) for s in REPLICATION_STORAGE]
        for i, region in enumerate(current):
            self.fields[f"keep_{i}"] = forms.BooleanField(
                required=False, initial=True, label=f"Keep {region.get('region')}"
            )
            self.fields[f"replicas_{i}"] = forms.IntegerField(
                min_value=1,
                max_value=MAX_REPLICAS,
                initial=region.get("replica_count") or 1,
                label=f"Replicas in {region.get('region')}",
            )
        for k in range(ADD_ROWS):
            self.fields[f"add_region_{k}"] = forms.ChoiceField(
                required=False, choices=offered, label="Add region"
            )
            self.fields[f"add_replicas_{k}"] = forms.IntegerField(
                required=False, min_value=1, max_value=MAX_REPLICAS, initial=1, label="Replicas"
            )
            self.fields[f"add_storage_{k}"] = forms.ChoiceField(
                required=False, choices=storage, initial="Standard_LRS", label="Storage"
            )

    def rows(self) -> list[dict[str, Any]]:
        """The current regions with their bound fields, for the template."""
        return [
            {
                "region": region,
                "keep": self[f"keep_{i}"],
                "replicas": self[f"replicas_{i}"],
                "home": str(region.get("region", "")).replace(" ", "").lower()
                == self.home.replace(" ", "").lower(),
            }
            for i, region in enumerate(self.current)
        ]

    def additions(self) -> list[dict[str, Any]]:
        return [
            {
                "region": self[f"add_region_{k}"],
                "replicas": self[f"add_replicas_{k}"],
                "storage": self[f"add_storage_{k}"],
            }
            for k in range(ADD_ROWS)
        ]

    def wanted(self) -> list[WantedRegion]:
        """The regions asked for (``WantedRegion``s), once the form is valid."""
        data = self.cleaned_data
        out = []
        for i, region in enumerate(self.current):
            home = self.rows()[i]["home"]
            if data.get(f"keep_{i}") or home:
                out.append(
                    WantedRegion(
                        str(region.get("region")),
                        int(data[f"replicas_{i}"]),
                        str(region.get("storage_account_type") or "Standard_LRS"),
                    )
                )
        for k in range(ADD_ROWS):
            name = data.get(f"add_region_{k}")
            if name:
                out.append(
                    WantedRegion(
                        str(name),
                        int(data.get(f"add_replicas_{k}") or 1),
                        str(data.get(f"add_storage_{k}") or "Standard_LRS"),
                    )
                )
        return out
