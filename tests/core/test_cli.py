"""Equivalent commands quote names from Azure by each shell's real rules."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from contoso_images.core.cli import powershell_quote, sh_quote
from vmops.cli import vm_equivalent_commands

#: What PowerShell's tokenizer treats as a single quote (CharExtensions.IsSingleQuote).
PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
QUOTE_LIKE = [*PS_SINGLE_QUOTES, '"', "\u201c", "\u201d", "\u201e", "`", "$", ";"]


def ps_read_verbatim(text: str, start: int) -> tuple[str, int]:
    """Read a single-quoted string as PowerShell's tokenizer does; return (value, end).

    Inside the string any single-quote character ends it, unless the next character is one
    too, in which case that second one is taken literally (ScanStringLiteral).
    """
    assert text[start] in PS_SINGLE_QUOTES
    value, i = [], start + 1
    while i < len(text):
        c = text[i]
        if c in PS_SINGLE_QUOTES:
            if i + 1 < len(text) and text[i + 1] in PS_SINGLE_QUOTES:
                value.append(text[i + 1])
                i += 2
                continue
            return "".join(value), i + 1
        value.append(c)
        i += 1
    raise AssertionError("unterminated string")


@pytest.mark.parametrize("quote", QUOTE_LIKE)
def test_powershell_quote_keeps_every_quote_like_character_inside_the_string(quote):
    value = f"rg-ps{quote};Start-Process calc;{quote}"
    quoted = powershell_quote(value)
    assert ps_read_verbatim(quoted, 0) == (value, len(quoted))


def test_the_reported_resource_group_cannot_run_calc():
    name = "rg-ps\u2019;Start-Process calc;\u2019"
    commands = vm_equivalent_commands(subscription_id="sub", resource_group=name, name="vm")
    for command in commands:
        start = command.powershell.index("-ResourceGroupName ") + len("-ResourceGroupName ")
        value, end = ps_read_verbatim(command.powershell, start)
        assert value == name
        assert command.powershell[end:].startswith(" -Name 'vm'")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("quote", [*QUOTE_LIKE, "\\", "\n", "*", "$(id)"])
def test_sh_quote_survives_a_real_bash(quote):
    value = f"rg{quote}x'y\"z $(touch /tmp/never) `id`"
    out = subprocess.run(
        ["bash", "-c", f"printf %s {sh_quote(value)}"], capture_output=True, text=True, check=True
    ).stdout
    assert out == value
