"""Recorded values in words: the audit pages showed ``False``, ``None``, ``{}`` and
``[{'name': ...}]``, Python's spelling of what an operator chose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()

EMPTY = "—"
NONE = "none"


@register.filter
def readable(value: Any) -> str:
    """A recorded option as a person reads it: yes/no, "—" for nothing, "none" for an empty
    list or mapping, a list of names for a list of named things, "key: value" pairs."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return EMPTY
    if isinstance(value, Mapping):
        if not value:
            return NONE
        if isinstance(value.get("name"), str) and value["name"]:
            return str(value["name"])
        return "; ".join(f"{key}: {readable(item)}" for key, item in value.items())
    if isinstance(value, list | tuple | set):
        if not value:
            return NONE
        return ", ".join(readable(item) for item in value)
    return str(value)


@register.filter
def label(key: Any) -> str:
    """An option's key as words: ``delete_source`` -> ``delete source``."""
    return str(key).replace("_", " ")
