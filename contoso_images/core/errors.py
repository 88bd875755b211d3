"""The error every layer raises to refuse a request, with a sentence for the person asking."""

from __future__ import annotations


class ActionRefused(Exception):
    """The rules (or the state of the resource) forbid what was asked for.

    ``str(error)`` is a complete sentence fit to show next to the button that was pressed.
    """
