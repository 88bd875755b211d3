"""Quoting for the Azure CLI and PowerShell commands the pages show beside each action.

Every value that reaches a copyable command goes through :func:`sh_quote` or
:func:`powershell_quote` — names and tags from Azure, values from forms, and enums too (an
``osType`` is whatever Azure's answer said). Written once: a fix to escaping that lives in two
copies misses one of them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

#: Characters PowerShell reads as a single quote: the ASCII one, and the left, right, low-9
#: and high-reversed-9 single quotation marks (U+2018 to U+201B). Inside a single-quoted
#: string any of them ends the string unless it is doubled, so a name holding U+2019 would
#: otherwise close the quote and run what follows (``rg’;Start-Process calc;’``).
POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


@dataclass(frozen=True)
class EquivalentCommand:
    """One action and the commands that do the same from a shell."""

    action: str
    az: str
    powershell: str


def powershell_quote(value: object) -> str:
    """A PowerShell single-quoted (verbatim) string holding exactly ``str(value)``.

    Only quote characters are special in a verbatim string; each is escaped by doubling it,
    which is what PowerShell's tokenizer expects for every one of the five.
    """
    text = str(value)
    escaped = "".join(c + c if c in POWERSHELL_SINGLE_QUOTES else c for c in text)
    return f"'{escaped}'"


def sh_quote(value: object) -> str:
    """A POSIX shell word holding exactly ``str(value)`` (bash, zsh, Cloud Shell)."""
    return shlex.quote(str(value))
