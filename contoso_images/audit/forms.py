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


#: The dates a filter may name. Beyond them the day's bounds in the server's zone (a day
#: after 9999-12-31, a day before 0001-01-01) cannot be computed, and no event is there.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(9998, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"


class BoundedDateField(forms.DateField):
    """A date a filter can use: a date outside EARLIEST_DATE..LATEST_DATE is a form error
    (``9999-12-31`` used to reach the query as "before the day after", and fail there)."""

    widget = DateInput

    def clean(self, value: Any) -> Any:
        day = super().clean(value)
        if isinstance(day, date) and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise forms.ValidationError(
                f"Choose a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}."
            )
        return day


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
    date_from = BoundedDateField(required=False, label="From")
    date_to = BoundedDateField(required=False, label="To")

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
