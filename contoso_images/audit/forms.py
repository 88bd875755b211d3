"""The audit log's and the capture history's filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from contoso_images.audit.models import Outcome
from contoso_images.operations import registry

#: Families offered as action suggestions besides every operation kind.
ACTION_FAMILIES = (
    "auth",
    "auth.login",
    "auth.login_failed",
    "auth.locked_out",
    "auth.logout",
    "access.denied",
    "audit.export",
    "audit.checkpoint",
    "catalog.review",
)

CAPTURE_OUTCOMES = [
    ("", "Any outcome"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("unfinished", "In progress"),
]


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(forms.Form):
    """Filters of the log (and of its export). An invalid filter is shown with its error and
    left out, so the page still answers."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    actor = forms.CharField(required=False, max_length=150, label="Actor")
    action = forms.CharField(required=False, max_length=120, label="Action")
    target = forms.CharField(required=False, max_length=400, label="Target")
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *Outcome.choices], label="Outcome"
    )
    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filters."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            name: value
            for name, value in data.items()
            if value not in (None, "") and name not in self.errors
        }

    @staticmethod
    def action_suggestions() -> list[str]:
        kinds = registry.kinds()
        return sorted({*ACTION_FAMILIES, *kinds, *(f"{kind}.failed" for kind in kinds)})


class CaptureFilterForm(AuditFilterForm):
    """The capture history's filters: the source VM is the target; outcome is the capture's."""

    outcome = forms.ChoiceField(required=False, choices=CAPTURE_OUTCOMES, label="Outcome")
    target = forms.CharField(required=False, max_length=400, label="Source VM")
    action = None  # type: ignore[assignment]
