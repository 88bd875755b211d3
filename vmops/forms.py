from __future__ import annotations

from django import forms

from vmops.choices import PowerState
from vmops.selectors import BILLED_STOPPED, GENERALIZED, SORTS, TRANSITIONING

POWER_STATE_FILTERS = [
    ("", "Any power state"),
    (BILLED_STOPPED, "Stopped but still billed"),
    (TRANSITIONING, "In transition"),
    (GENERALIZED, "Generalized"),
    *[(state.value, state.label) for state in PowerState],
]


class VmFilterForm(forms.Form):
    """The list's filters; invalid values are ignored rather than failing the page."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    subscription = forms.ChoiceField(required=False, label="Subscription")
    resource_group = forms.ChoiceField(required=False, label="Resource group")
    power_state = forms.ChoiceField(
        required=False, choices=POWER_STATE_FILTERS, label="Power state"
    )
    os_type = forms.ChoiceField(required=False, label="OS")
    location = forms.ChoiceField(required=False, label="Location")
    include_gone = forms.BooleanField(required=False, label="Include VMs deleted in Azure")
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])

    def __init__(self, *args, choices: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._choices(
            "subscription",
            "All subscriptions",
            [(s.subscription_id, str(s)) for s in choices["subscriptions"]],
        )
        self._choices(
            "resource_group", "All resource groups", [(rg, rg) for rg in choices["resource_groups"]]
        )
        self._choices("os_type", "Any OS", [(o, o) for o in choices["os_types"]])
        self._choices("location", "All locations", [(loc, loc) for loc in choices["locations"]])

    def _choices(self, name: str, anything: str, options: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", anything), *options]

    def filters(self) -> dict:
        """The valid, non-empty filters (an invalid one is dropped, not an error page)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v and k != "sort"}

    def sort_order(self) -> str:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("sort") or "name"
