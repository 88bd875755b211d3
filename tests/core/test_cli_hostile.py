"""Every value that reaches a copyable command is quoted, whatever field it came from.

Each builder of equivalent commands gets a hostile value in every field it reads (names,
enums such as ``osType``, regions, plan parts, tags-derived values); each command is then read
the way its shell reads it: ``az`` commands with POSIX ``shlex`` (operators kept apart as
punctuation), PowerShell ones by its tokenizer's rule for verbatim strings. The hostile marker
must only ever appear inside one quoted word, and the command's own operators must be the only
ones outside quotes.
"""

from __future__ import annotations

import re
import shlex
from datetime import date, datetime

import pytest

from catalog.choices import ImageKind
from catalog.cli import create_vm_commands, review_effect_commands
from catalog.models import CatalogImage, ImageDefinition
from contoso_images.core.cli import POWERSHELL_SINGLE_QUOTES, EquivalentCommand
from contoso_images.core.models import Subscription
from vmops.capture.choices import CaptureKind
from vmops.capture.cli import capture_commands
from vmops.capture.models import Capture
from vmops.cli import vm_equivalent_commands
from vmops.models import VirtualMachine

MARK = "PWN"
#: Breaks out of every kind of quoting a careless builder might use, then runs something.
HOSTILE = [
    f"{MARK};echo X;",
    f"{MARK}' ; echo X; '",
    f'{MARK}" ; echo X; "',
    f"{MARK}\u2019;Start-Process calc;\u2019",
    f"{MARK}\u2018;calc;\u201b",
    f"{MARK}$(id)`whoami`",
    f"{MARK}\nrm -rf ~\n",
    f"{MARK} | Out-File x && echo y",
]


def _ps_verbatim_spans(text: str) -> list[tuple[int, int]]:
    """Where PowerShell's tokenizer sees single-quoted strings (start, end exclusive).

    Any of the five single-quote characters opens or closes one; inside, two in a row stand
    for one literal quote (ScanStringLiteral). Double-quoted strings are not expected in our
    commands; if one appears, its contents count as unquoted (they expand ``$()``).
    """
    spans, i = [], 0
    while i < len(text):
        if text[i] in POWERSHELL_SINGLE_QUOTES:
            start, i = i, i + 1
            while i < len(text):
                if text[i] in POWERSHELL_SINGLE_QUOTES:
                    if i + 1 < len(text) and text[i + 1] in POWERSHELL_SINGLE_QUOTES:
                        i += 2
                        continue
                    break
                i += 1
            assert i < len(text), f"unterminated string in {text!r}"
            spans.append((start, i + 1))
        i += 1
    return spans


def _assert_powershell_safe(command: str, value: str) -> None:
    spans = _ps_verbatim_spans(command)
    for match in re.finditer(MARK, command):
        inside = [s for s in spans if s[0] < match.start() < s[1]]
        assert inside, f"{value!r} reached PowerShell unquoted: {command!r}"
        start, end = inside[0]
        body = command[start + 1 : end - 1]
        unescaped = re.sub(
            f"([{POWERSHELL_SINGLE_QUOTES}])[{POWERSHELL_SINGLE_QUOTES}]", r"\1", body
        )
        assert value in unescaped, f"{value!r} was altered: {body!r}"


#: ``<resource-group>``: a placeholder for the person to replace, not part of what is checked.
PLACEHOLDER = re.compile(r"<[a-z][a-z-]*>")


def _assert_sh_safe(command: str, value: str) -> None:
    command = PLACEHOLDER.sub("PLACEHOLDER", command)
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    operators = [t for t in tokens if t and set(t) <= set(";&|()<>")]
    assert set(operators) <= {"&&"}, f"{value!r} added shell operators {operators}: {command!r}"
    holders = [t for t in tokens if MARK in t]
    assert holders, f"{value!r} vanished from {command!r}"
    assert all(value in t for t in holders), f"{value!r} was split across words: {command!r}"
    # Command substitution happens outside single quotes only.
    assert not _sh_substitutions_outside_single_quotes(command), command


def _sh_substitutions_outside_single_quotes(command: str) -> list[int]:
    """Offsets of ``$(`` or a backtick that bash would expand (a POSIX quoting scan)."""
    found, state, i = [], "", 0
    while i < len(command):
        c = command[i]
        if state == "'":
            state = "" if c == "'" else state
        elif c == "\\":
            i += 1
        elif state == '"' and c == '"':
            state = ""
        elif not state and c in "'\"":
            state = c
        elif c == "`" or command.startswith("$(", i):
            found.append(i)
        i += 1
    return found


def _check(commands: list[EquivalentCommand], value: str) -> None:
    assert commands
    for command in commands:
        if MARK in command.az:
            _assert_sh_safe(command.az, value)
        if MARK in command.powershell:
            _assert_powershell_safe(command.powershell, value)


@pytest.mark.parametrize("value", HOSTILE)
def test_vm_commands_quote_every_field(value):
    for field in ("subscription_id", "resource_group", "name"):
        kwargs = {"subscription_id": "sub", "resource_group": "rg", "name": "vm", field: value}
        _check(vm_equivalent_commands(**kwargs), value)


def _vm(**fields) -> VirtualMachine:
    values = {
        "subscription": Subscription(subscription_id="sub"),
        "azure_id": "/subscriptions/sub/resourcegroups/rg/providers/x/virtualmachines/vm",
        "resource_group": "rg",
        "name": "vm",
        "location": "westeurope",
        "os_type": "Linux",
        "hyper_v_generation": "V2",
    }
    values.update(fields)
    return VirtualMachine(**values)


def _capture(vm: VirtualMachine, **fields) -> Capture:
    values = {
        "vm": vm,
        "kind": CaptureKind.GALLERY_GENERALIZED,
        "image_id": "/subscriptions/sub/x",
        "image_name": "1.0.0",
        "image_resource_group": "rg",
        "gallery": "gal",
        "definition": "def",
        "new_definition": {"publisher": "p", "offer": "o", "sku": "s", "location": "westeurope"},
        "target_regions": [{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
    }
    values.update(fields)
    return Capture(**values)


VM_FIELDS = ("resource_group", "name", "location", "os_type", "hyper_v_generation", "azure_id")
CAPTURE_FIELDS = ("image_id", "image_name", "image_resource_group", "gallery", "definition")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("kind", [k.value for k in CaptureKind])
def test_capture_commands_quote_every_field_enums_included(value, kind):
    for field in VM_FIELDS:
        commands = capture_commands(_capture(_vm(**{field: value}), kind=kind))
        _check(list(commands.values()), value)
    commands = capture_commands(
        _capture(_vm(subscription=Subscription(subscription_id=value)), kind=kind)
    )
    _check(list(commands.values()), value)
    for field in CAPTURE_FIELDS:
        commands = capture_commands(_capture(_vm(), kind=kind, **{field: value}))
        _check(list(commands.values()), value)
    for key in ("publisher", "offer", "sku", "os_state", "location"):
        spec = {"publisher": "p", "offer": "o", "sku": "s", key: value}
        commands = capture_commands(_capture(_vm(), kind=kind, new_definition=spec))
        _check(list(commands.values()), value)
    for key in ("name", "replicas", "storage"):
        region = {"name": "westeurope", "replicas": 1, "storage": "Standard_LRS", key: value}
        commands = capture_commands(_capture(_vm(), kind=kind, target_regions=[region]))
        _check(list(commands.values()), value)


def _definition(**fields) -> ImageDefinition:
    values = {"resource_id": "/subscriptions/sub/def", "gallery_name": "gal", "name": "def"}
    values.update(fields)
    return ImageDefinition(**values)


def _image(**fields) -> CatalogImage:
    values = {
        "kind": ImageKind.GALLERY_VERSION,
        "resource_id": "/subscriptions/sub/v",
        "name": "1.0.0",
        "resource_group": "rg",
        "location": "westeurope",
        "definition": _definition(),
        "first_seen_at": datetime(2026, 1, 1),
    }
    values.update(fields)
    return CatalogImage(**values)


@pytest.mark.parametrize("value", HOSTILE)
def test_catalog_commands_quote_every_field(value):
    for field in ("resource_id", "location"):
        _check(create_vm_commands(_image(**{field: value})), value)
    _check(create_vm_commands(_image(definition=_definition(resource_id=value))), value)
    for field in ("name", "resource_group"):
        image = _image(**{field: value})
        _check(review_effect_commands(image, end_of_life_date=date(2027, 1, 1)), value)
    for field in ("gallery_name", "name"):
        _check(review_effect_commands(_image(definition=_definition(**{field: value}))), value)
    marketplace = {
        "kind": ImageKind.MARKETPLACE,
        "definition": None,
        "publisher": "Canonical",
        "offer": "ubuntu",
        "sku": "22_04-lts",
        "version": "latest",
        "plan": {"publisher": "p", "product": "o", "name": "n"},
    }
    for field in ("publisher", "offer", "sku", "version", "location"):
        _check(create_vm_commands(_image(**{**marketplace, field: value})), value)
    for key in ("publisher", "product", "name"):
        plan = {"publisher": "p", "product": "o", "name": "n", key: value}
        _check(create_vm_commands(_image(**{**marketplace, "plan": plan})), value)
