"""Every input the VM pages read goes through a form here: filters, ids, selections, columns.

Ids are ASCII digits only. ``str.isdigit`` and ``int`` accept "²", "①" or Arabic-Indic "١٢"
(the last as 12), so a typed field, not ad hoc parsing, turns text into ids.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from vmops.choices import PowerState
from vmops.columns import OPTIONAL_COLUMNS
from vmops.models import BillingPolicy, PolicyKind
from vmops.power import POWER_ACTIONS
from vmops.selectors import BILLED_STOPPED, GENERALIZED, SORTS, TRANSITIONING

POWER_STATE_FILTERS = [
    ("", "Any power state"),
    (BILLED_STOPPED, "Stopped but still billed"),
    (TRANSITIONING, "In transition"),
    (GENERALIZED, "Generalized"),
    # "Stopped (still billed)" is the billed filter above: offering both named one set twice.
    *[(state.value, state.label) for state in PowerState if state != PowerState.STOPPED],
]
#: Old links and the tiles may still say power_state=stopped: it means the billed filter.
POWER_STATE_ALIASES = {PowerState.STOPPED.value: BILLED_STOPPED}

#: A filter with more options than this is not spelled out in the "not one of" sentence.
MAX_NAMED_CHOICES = 12

_ASCII_ID = re.compile(r"\A[0-9]{1,18}\Z")
_TAG = re.compile(r"\A(?P<key>[^=]+?)\s*(?:=\s*(?P<value>.*))?\Z", re.S)


def parse_id(value: Any) -> int:
    text = str(value).strip()
    if not _ASCII_ID.match(text):
        raise ValidationError("Ids are whole numbers written with the digits 0-9.")
    return int(text)


class IdField(forms.Field):
    """One id, ASCII digits only."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        return parse_id(value)


class IdListField(forms.Field):
    """Several ids (a repeated parameter), ASCII digits only, duplicates dropped, order kept."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return list(dict.fromkeys(parse_id(v) for v in values))


class TagFilterField(forms.CharField):
    """``key=value`` (a tag with that value) or ``key`` (any VM carrying the tag)."""

    def to_python(self, value: Any) -> tuple[str, str | None] | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = _TAG.match(text)
        if not match or not match["key"].strip():
            raise ValidationError("Write a tag as name=value, or a name alone.")
        value_part = match["value"]
        return match["key"].strip(), value_part.strip() if value_part is not None else None


class VmFilterForm(forms.Form):
    """The list's filters; an invalid value is dropped, and :meth:`ignored` says so on the
    page, rather than failing it."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    subscription = forms.ChoiceField(required=False, label="Subscription")
    resource_group = forms.ChoiceField(required=False, label="Resource group")
    power_state = forms.ChoiceField(
        required=False, choices=POWER_STATE_FILTERS, label="Power state"
    )
    tag = TagFilterField(required=False, max_length=200, label="Tag")
    os_type = forms.ChoiceField(required=False, label="OS")
    location = forms.ChoiceField(required=False, label="Location")
    include_gone = forms.BooleanField(required=False, label="Include VMs deleted in Azure")
    #: Lineage: only VMs whose catalog image is deprecated, past end of life or rejected.
    image_risk = forms.BooleanField(
        required=False, label="On a deprecated, past end-of-life or rejected image"
    )
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])

    #: The fields that narrow the list, described in words.
    FILTERS = ("q", "subscription", "resource_group", "power_state", "tag", "os_type", "location")
    #: Every parameter that decides which VMs "all matching the filter" means, in order.
    SELECTION = (*FILTERS, "include_gone", "image_risk", "sort")

    def __init__(
        self, data: Any = None, *args: Any, choices: dict[str, Any], **kwargs: Any
    ) -> None:
        if data is not None and data.get("power_state") in POWER_STATE_ALIASES:
            data = data.copy()
            data["power_state"] = POWER_STATE_ALIASES[data["power_state"]]
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, *args, **kwargs)
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

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filters (an invalid one is dropped, not an error page)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v and k != "sort"}

    def ignored(self) -> list[str]:
        """Each filter value the list could not use, in a sentence that says the list shows
        everything that filter would have narrowed (``?power_state=bogus`` lists all VMs, and
        the page says so rather than pretend it filtered)."""
        self.is_valid()
        notes = []
        for name, errors in self.errors.items():
            field = self.fields.get(name)
            if field is None:
                continue
            raw = str(self.data.get(name, ""))[:60]
            label = str(field.label or name).lower()
            choices = [str(text) for value, text in getattr(field, "choices", []) if value]
            if name == "sort":
                notes.append(f"Sort “{raw}” is not a column the list sorts by; sorted by name.")
            elif choices and len(choices) <= MAX_NAMED_CHOICES:
                notes.append(
                    f"{label.capitalize()} “{raw}” is not one of {', '.join(choices)}; showing all."
                )
            elif choices:
                notes.append(f"{label.capitalize()} “{raw}” is not one of the list's; showing all.")
            else:
                notes.append(
                    f"{label.capitalize()} “{raw}”: {' '.join(str(e) for e in errors)} Showing all."
                )
        return notes

    def sort_order(self) -> str:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("sort") or "name"

    def described(self) -> str:
        """The active filters in words, for people ("env=prod, Running, search “web”")."""
        filters = self.filters()
        parts = []
        for name in self.FILTERS:
            if name not in filters:
                continue
            value = filters[name]
            if name == "q":
                parts.append(f"search “{value}”")
            elif name == "tag":
                key, tag_value = value
                parts.append(f"tag {key}={tag_value}" if tag_value is not None else f"tag {key}")
            else:
                field = self.fields[name]
                labels = dict(getattr(field, "choices", []))
                parts.append(str(labels.get(value, value)))
        if filters.get("include_gone"):
            parts.append("including VMs deleted in Azure")
        if filters.get("image_risk"):
            parts.append("on a deprecated, past end-of-life or rejected image")
        return ", ".join(parts)


def quick_select(field: forms.BoundField) -> SafeString:
    """A ``<select>`` of a choice field, written out with ``format_html``: Django's widget
    renders each option through a template, which cost the list page more than its rows."""
    current = str(field.value() or "")
    choices = getattr(field.field, "choices", [])
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if str(value) == current else "", label)
            for value, label in choices
        ),
    )
    return format_html(
        '<select name="{}" id="{}">{}</select>', field.html_name, field.id_for_label, options
    )


class RowPollForm(forms.Form):
    """``?op=<id>``: the operation a row was watching when it was rendered."""

    op = IdField(required=False)


SCOPE_SELECTED = "selected"
SCOPE_FILTER = "filter"


class PreviewedIdsField(forms.Field):
    """The VMs a filter preview listed, as one comma-separated value (one field, not two
    thousand: Django refuses a POST of more than 1,000 fields). ASCII digits only."""

    widget = forms.HiddenInput

    def to_python(self, value: Any) -> list[int] | None:
        if value in self.empty_values:
            return None
        return list(dict.fromkeys(parse_id(v) for v in str(value).split(",") if v.strip()))


class BulkActionForm(forms.Form):
    """A multi-select: an action, and either the ticked VMs or every VM the filter matches.

    "All matching the filter" sends the filter (read by a :class:`VmFilterForm` over the same
    data) and, on confirmation, the ids its preview listed in one field: only those are acted on.
    """

    action = forms.ChoiceField(choices=[(a.value, a.label) for a in POWER_ACTIONS])
    scope = forms.ChoiceField(
        required=False,
        choices=[(SCOPE_SELECTED, "The ticked VMs"), (SCOPE_FILTER, "Every VM the filter matches")],
    )
    vm = IdListField(required=False)
    #: With "all matching the filter", the confirmation carries the VMs its preview listed.
    previewed = PreviewedIdsField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["scope"] = data.get("scope") or SCOPE_SELECTED
        if data["scope"] == SCOPE_SELECTED and not data.get("vm"):
            raise ValidationError("No VM was selected: tick the VMs to act on.")
        return data


class ColumnsForm(forms.Form):
    """The optional columns a user shows on the VM list."""

    columns = forms.MultipleChoiceField(
        required=False,
        choices=[(c.key, c.label) for c in OPTIONAL_COLUMNS],
        widget=forms.CheckboxSelectMultiple,
    )


# --- Billing-guard policies -------------------------------------------------------------------

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def _words(text: str) -> list[str]:
    return [word.strip() for word in re.split(r"[,\s]+", text or "") if word.strip()]


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in the stubs
    """A billing-guard policy. Lists are typed as text (comma separated) and checked here;
    whether it is switched on is not in the form: a new policy is a dry run until someone
    switches it on, on its page."""

    subscriptions_text = forms.CharField(
        label="Subscriptions (ids, comma separated; empty: all)", required=False, max_length=4000
    )
    resource_groups_text = forms.CharField(
        label="Resource groups (comma separated; empty: all)", required=False, max_length=4000
    )
    tags_text = forms.CharField(
        label="Tags the VMs must carry (key=value, comma separated)",
        required=False,
        max_length=2000,
    )
    weekdays_list = forms.TypedMultipleChoiceField(
        label="Weekdays",
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = BillingPolicy
        fields = [
            "name",
            "kind",
            "stopped_minutes",
            "opt_out_tag",
            "time_zone",
            "quiet_start",
            "quiet_end",
            "at_time",
            "notice_minutes",
        ]
        labels = {
            "stopped_minutes": "Stopped (allocated) for more than (minutes)",
            "opt_out_tag": "Opt-out tag (key=value; always wins)",
            "time_zone": "Time zone (IANA name, e.g. Europe/Amsterdam)",
            "quiet_start": "Quiet hours from (HH:MM, optional)",
            "quiet_end": "Quiet hours until (HH:MM, optional)",
            "at_time": "Deallocate at (HH:MM, time-of-day policies)",
            "notice_minutes": "Notice period (minutes; 0: none)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = self.instance
        if policy.pk and not self.is_bound:
            self.initial["subscriptions_text"] = ", ".join(policy.subscriptions or [])
            self.initial["resource_groups_text"] = ", ".join(policy.resource_groups or [])
            self.initial["tags_text"] = ", ".join(
                f"{k}={v}" for k, v in (policy.tags or {}).items()
            )
            self.initial["weekdays_list"] = policy.weekdays or []

    def clean_time_zone(self) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name = (self.cleaned_data.get("time_zone") or "UTC").strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"{name} is not a time zone name (try Europe/Amsterdam)."
            ) from None
        return name

    def clean_opt_out_tag(self) -> str:
        text = (self.cleaned_data.get("opt_out_tag") or "").strip()
        if text and not text.partition("=")[0].strip():
            raise ValidationError("Write the opt-out tag as key=value.")
        return text

    def clean_tags_text(self) -> dict[str, str]:
        tags: dict[str, str] = {}
        for item in (self.cleaned_data.get("tags_text") or "").split(","):
            if not item.strip():
                continue
            key, _, value = item.partition("=")
            if not key.strip():
                raise ValidationError(f"“{item.strip()}” is not key=value.")
            tags[key.strip()] = value.strip()
        return tags

    def clean_subscriptions_text(self) -> list[str]:
        ids = [word.lower() for word in _words(self.cleaned_data.get("subscriptions_text", ""))]
        for value in ids:
            if not re.fullmatch(r"[0-9a-f-]{36}", value):
                raise ValidationError(f"{value} is not a subscription id.")
        return ids

    def clean_resource_groups_text(self) -> list[str]:
        return [word.lower() for word in _words(self.cleaned_data.get("resource_groups_text", ""))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            raise ValidationError("Give both ends of the quiet hours, or neither.")
        if data.get("kind") == PolicyKind.TIME_OF_DAY:
            if data.get("at_time") is None:
                self.add_error("at_time", "A time-of-day policy needs the time.")
            if not data.get("weekdays_list"):
                self.add_error("weekdays_list", "Choose at least one weekday.")
            if not data.get("tags_text"):
                self.add_error("tags_text", "A time-of-day policy acts on VMs with a tag: name it.")
        elif data.get("kind") == PolicyKind.STOPPED_FOR and not data.get("stopped_minutes"):
            self.add_error("stopped_minutes", "Give the minutes (at least 1).")
        return data

    def save(self, commit: bool = True) -> Any:
        policy = super().save(commit=False)
        policy.subscriptions = self.cleaned_data["subscriptions_text"]
        policy.resource_groups = self.cleaned_data["resource_groups_text"]
        policy.tags = self.cleaned_data["tags_text"]
        policy.weekdays = sorted(self.cleaned_data.get("weekdays_list") or [])
        return policy
