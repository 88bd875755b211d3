"""A VM's row of the list (and its state and actions cells), written out in Python.

The list renders fifty rows of a dozen cells and four actions each; through template tags
that was most of the page's cost (each cell a few variable lookups, each button a dozen, each
form a ``{% csrf_token %}``). Built here, every value escaped (``_e``: Django's escaping), it
costs about what a bare template of the same cells does. The markup is the one the template
had: the list offers what the VM can do now; the VM page (``all_actions``) shows all four,
the others disabled with the reason as their description; a question that offers a safer
action makes that one the primary button.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import is_aware, localtime

from catalog.rows import image_base as catalog_image_base

if TYPE_CHECKING:
    from vmops.rows import RowAction, VmRow


def state_html(row: VmRow) -> SafeString:
    """The power state cell: badges, the progress bar while something runs, and the notes
    (an operation's progress, an error with Azure's code, the billing warning)."""
    parts = [f'<span class="state {_e(cls)}">{_e(label)}</span> ' for cls, label in row.badges]
    if row.show_progress:
        parts.append(
            '<span class="progress indeterminate" role="progressbar" '
            f'aria-label="{_e(row.progress_label)}"><span></span></span>'
        )
    for note in row.notes:
        text = _e(note.text)
        if note.kind == "progress":
            parts.append(f'<span class="op-note"><strong>{_e(note.code)}</strong> · {text}</span>')
        elif note.kind == "error":
            code = f" <code>{_e(note.code)}</code>" if note.code else ""
            parts.append(f'<span class="op-error">{text}{code}</span>')
        elif note.kind == "billing":
            parts.append(f'<span class="billing-warning">{text}</span>')
        else:
            parts.append(f'<span class="op-note">{text}</span>')
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through _e


def actions_html(row: VmRow, *, all_actions: bool) -> SafeString:
    """The ``<div class="actions">`` of a row (and the VM page's reasons list)."""
    target = "closest section" if all_actions else "closest tr"
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(row.csrf_token)}">'
    parts = ['<div class="actions">']
    pk = _e(row.vm.pk)
    for action in row.actions:
        if not (action.allowed or all_actions):
            continue
        ident = f"vm-{pk}-{_e(action.kind)}"
        if not action.allowed:
            parts.append(
                f'<button type="button" class="button small" id="{ident}" disabled '
                f'aria-describedby="{ident}-why">{_e(action.label)}</button>'
                f'<span class="visually-hidden" id="{ident}-why">{_e(action.reason)}</span>'
            )
        elif action.confirm:
            parts.append(_question(row, action, ident, target, token))
        else:
            classes = "button small" + (" primary" if action.primary else "")
            classes += " warn" if action.warn else ""
            url = _e(action.url)
            parts.append(
                f'<form method="post" action="{url}" hx-post="{url}" hx-target="{target}" '
                f'hx-swap="outerHTML">{token}<button type="submit" id="{ident}" '
                f'class="{classes}">{_e(action.label)}</button></form>'
            )
    if not all_actions and row.busy:
        parts.append(
            f'<span class="idle-reason busy">{_e(row.busy)} <a href="{_e(row.detail_url)}'
            '#vm-history">See the operation</a></span>'
        )
    elif not all_actions and not row.offered and row.idle_reason:
        parts.append(f'<span class="idle-reason">{_e(row.idle_reason)}</span>')
    if row.refusal:
        parts.append(f'<p class="refusal" role="alert">{_e(row.refusal)}</p>')
    parts.append("</div>")
    if all_actions and row.reasons:
        parts.append('<ul class="reasons">')
        parts += [f"<li>{_e(labels)}: {_e(why)}</li>" for labels, why in row.reasons]
        parts.append("</ul>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through _e


def _question(row: VmRow, action: RowAction, ident: str, target: str, token: str) -> str:
    """An action asked first: a disclosure with the question, the answer, the safer action
    when there is one, and Cancel (for scripts; without them the disclosure closes).
    ``ident``, ``target`` and ``token`` are HTML already."""
    url = _e(action.url)
    answer = (
        f'<form method="post" action="{url}" hx-post="{url}" hx-target="{target}" '
        f'hx-swap="outerHTML">{token}<input type="hidden" name="confirm" value="yes">'
        f'<button type="submit" class="button small{"" if action.instead_url else " danger"}">'
        f"{_e(action.confirm_label)}</button></form>"
    )
    instead = ""
    if action.instead_url:
        instead_url = _e(action.instead_url)
        instead = (
            f'<form method="post" action="{instead_url}" hx-post="{instead_url}" '
            f'hx-target="{target}" hx-swap="outerHTML">{token}'
            '<input type="hidden" name="confirm" value="yes">'
            '<button type="submit" class="button small primary">'
            f"{_e(action.instead_label)}</button></form>"
        )
    return (
        f'<details class="confirm"{" open" if row.confirm_open == action.kind else ""}>'
        f'<summary class="button small{" primary" if action.primary else ""}" id="{ident}">'
        f"{_e(action.button_label)}</summary>"
        f'<div class="confirm-box" role="group" aria-labelledby="{ident}-q">'
        f'<p id="{ident}-q">{_e(action.confirm)}</p><div class="row">{answer}{instead}'
        '<button type="button" class="button small js-only" data-close-confirm>Cancel</button>'
        "</div></div></details>"
    )


def _e(value: object) -> str:
    """``conditional_escape`` without its lazy-string wrapper (most of its cost over fifty
    rows of a dozen cells): safe HTML as it is, anything else through ``html.escape`` as
    Django's ``escape`` does."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


@lru_cache(maxsize=8)
def _catalog_image_base(prefix: str) -> str:
    """``/catalog/images/``: where a row links the catalog image its VM was created from
    (the catalog's own ``image_base``, reversed once per script prefix)."""
    return catalog_image_base()


#: The "—" of an empty cell, and of "State since" for a VM not seen changing.
_NONE = '<span class="muted">—</span>'
_NOT_SEEN = (
    '<span class="muted" title="Not seen changing since the dashboard first listed it">—'
    '<span class="visually-hidden"> not seen changing</span></span>'
)


def row_html(row: VmRow, shown: Mapping[str, bool]) -> SafeString:
    """The list's ``<tr>`` of one VM: the tick box, name, power state, the optional columns
    ``shown`` (``{key: True}``, ``columns.shown``) in their fixed order
    (``columns.OPTIONAL_COLUMNS``), and the actions. Every value from Azure or the database
    goes through ``_e``; the state and actions cells are already safe HTML (above)."""
    vm = row.vm
    pk = vm.pk
    classes = "vm-row"
    if vm.is_billed_while_stopped:
        classes += " row-billed"
    if vm.gone_at:
        classes += " row-gone"
    poll = ""
    if row.polling and row.operation is not None:
        poll = (
            f' hx-get="{_e(row.row_url)}?op={_e(row.operation.pk)}" '
            f'hx-trigger="every {_e(row.poll_seconds)}s" hx-target="this" hx-swap="outerHTML"'
        )
    name = _e(vm.name)
    parts = [f'<tr id="vm-row-{_e(pk)}" class="{classes}"{poll}>']
    if row.can_operate:
        parts.append(
            f'<td class="select-col"><input type="checkbox" name="vm" value="{_e(pk)}" '
            f'form="vm-bulk" aria-label="Tick {name}"></td>'
        )
    parts.append(
        f'<td class="col-name"><a href="{_e(row.detail_url)}"><strong>{name}</strong></a>'
        f'<span class="sub">{_e(vm.resource_group)} · {_e(vm.subscription)}</span></td>'
        f'<td class="col-power_state" data-label="Power state" id="vm-{_e(pk)}-state" '
        f'tabindex="-1" data-focus-after-swap>{state_html(row)}</td>'
    )
    generation = _e(vm.hyper_v_generation[1:]) if vm.hyper_v_generation else ""
    if shown.get("size"):
        parts.append(f'<td class="col-size" data-label="Size">{_e(vm.size or "—")}</td>')
    if shown.get("os"):
        gen = f'<span class="sub">Gen {generation}</span>' if generation else ""
        parts.append(f'<td class="col-os" data-label="OS">{_e(vm.os_type or "—")}{gen}</td>')
    if shown.get("location"):
        parts.append(f'<td class="col-location" data-label="Location">{_e(vm.location)}</td>')
    if shown.get("tags"):
        tags = [
            f'<a class="tag" href="?tag={_e(quote(key))}%3D{_e(quote(value))}" '
            f'title="Show VMs tagged {_e(key)}={_e(value)}">{_e(key)}={_e(value)}</a>'
            for key, value in row.tags
        ]
        parts.append(f'<td class="col-tags" data-label="Tags">{"".join(tags) or _NONE}</td>')
    if shown.get("image"):
        label = _e(vm.image_label)
        if vm.catalog_image_id:
            base = _catalog_image_base(get_script_prefix())
            image = (
                f'<a href="{_e(base)}{_e(vm.catalog_image_id)}/" '
                f'title="Created from this catalog image: {label}">'
                f"{_e(row.image or 'catalog image')}</a>"
            )
        else:
            image = f'<span title="{label}">{_e(row.image or "—")}</span>'
        if vm.os_type:
            gen = f" · Gen {generation}" if generation else ""
            image += f'<span class="sub">{_e(vm.os_type)}{gen}</span>'
        parts.append(f'<td class="col-image" data-label="Image">{image}</td>')
    if shown.get("age"):
        age = (
            f'<time datetime="{_iso(vm.created_at)}" data-local="title">{_e(row.age)}</time>'
            if row.age
            else _NONE
        )
        parts.append(f'<td class="col-age" data-label="Age">{age}</td>')
    if shown.get("changed"):
        since = (
            f'<time datetime="{_iso(vm.in_state_since)}" data-local="relative">'
            f"{_e(row.since)}</time>"
            if row.since
            else _NOT_SEEN
        )
        parts.append(f'<td class="col-changed" data-label="In this state since">{since}</td>')
    if shown.get("waste"):
        parts.append(
            f'<td class="col-waste" data-label="Waste per day">{_e(vm.waste_label or "—")}</td>'
        )
    if row.can_operate:
        parts.append(
            f'<td class="col-actions" data-label="Actions">'
            f"{actions_html(row, all_actions=False)}</td>"
        )
    parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above went through _e


def _iso(value: datetime | None) -> str:
    """``{{ value|date:'c' }}``: ISO 8601 in the current time zone, as the template wrote it."""
    if value is None:
        return ""
    if settings.USE_TZ and is_aware(value):
        value = localtime(value)
    return _e(value.isoformat())
