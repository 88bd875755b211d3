"""A VM's row of the list (and its state and actions cells), written out in Python.

The list renders fifty rows of a dozen cells and four actions each; through template tags
that was most of the page's cost (each cell a few variable lookups, each button a dozen, each
form a ``{% csrf_token %}``). Built here, every value escaped (``format_html``, ``_e``), it
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

from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

if TYPE_CHECKING:
    from vmops.rows import RowAction, VmRow


def state_html(row: VmRow) -> SafeString:
    """The power state cell: badges, the progress bar while something runs, and the notes
    (an operation's progress, an error with Azure's code, the billing warning)."""
    parts = [
        format_html('<span class="state {}">{}</span> ', cls, label) for cls, label in row.badges
    ]
    if row.show_progress:
        parts.append(
            format_html(
                '<span class="progress indeterminate" role="progressbar" aria-label="{}">'
                "<span></span></span>",
                row.progress_label,
            )
        )
    for note in row.notes:
        if note.kind == "progress":
            parts.append(
                format_html(
                    '<span class="op-note"><strong>{}</strong> · {}</span>', note.code, note.text
                )
            )
        elif note.kind == "error":
            code = format_html(" <code>{}</code>", note.code) if note.code else ""
            parts.append(format_html('<span class="op-error">{}{}</span>', note.text, code))
        elif note.kind == "billing":
            parts.append(format_html('<span class="billing-warning">{}</span>', note.text))
        else:
            parts.append(format_html('<span class="op-note">{}</span>', note.text))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is format_html'd


def actions_html(row: VmRow, *, all_actions: bool) -> SafeString:
    """The ``<div class="actions">`` of a row (and the VM page's reasons list)."""
    target = "closest section" if all_actions else "closest tr"
    token = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', row.csrf_token
    )
    parts = ['<div class="actions">']
    pk = row.vm.pk
    for action in row.actions:
        if not (action.allowed or all_actions):
            continue
        ident = f"vm-{pk}-{action.kind}"
        if not action.allowed:
            parts.append(
                format_html(
                    '<button type="button" class="button small" id="{0}" disabled '
                    'aria-describedby="{0}-why">{1}</button>'
                    '<span class="visually-hidden" id="{0}-why">{2}</span>',
                    ident,
                    action.label,
                    action.reason,
                )
            )
        elif action.confirm:
            parts.append(_question(row, action, ident, target, token))
        else:
            classes = "button small" + (" primary" if action.primary else "")
            classes += " warn" if action.warn else ""
            parts.append(
                format_html(
                    '<form method="post" action="{0}" hx-post="{0}" hx-target="{1}" '
                    'hx-swap="outerHTML">{2}<button type="submit" id="{3}" class="{4}">'
                    "{5}</button></form>",
                    action.url,
                    target,
                    token,
                    ident,
                    classes,
                    action.label,
                )
            )
    if not all_actions and row.busy:
        parts.append(
            format_html(
                '<span class="idle-reason busy">{} <a href="{}#vm-history">See the operation'
                "</a></span>",
                row.busy,
                row.detail_url,
            )
        )
    elif not all_actions and not row.offered and row.idle_reason:
        parts.append(format_html('<span class="idle-reason">{}</span>', row.idle_reason))
    if row.refusal:
        parts.append(format_html('<p class="refusal" role="alert">{}</p>', row.refusal))
    parts.append("</div>")
    if all_actions and row.reasons:
        parts.append('<ul class="reasons">')
        parts += [format_html("<li>{}: {}</li>", labels, why) for labels, why in row.reasons]
        parts.append("</ul>")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is format_html'd


def _question(row: VmRow, action: RowAction, ident: str, target: str, token: str) -> str:
    """An action asked first: a disclosure with the question, the answer, the safer action
    when there is one, and Cancel (for scripts; without them the disclosure closes)."""
    answer = format_html(
        '<form method="post" action="{0}" hx-post="{0}" hx-target="{1}" hx-swap="outerHTML">'
        '{2}<input type="hidden" name="confirm" value="yes">'
        '<button type="submit" class="button small{3}">{4}</button></form>',
        action.url,
        target,
        token,
        "" if action.instead_url else " danger",
        action.confirm_label,
    )
    instead = ""
    if action.instead_url:
        instead = format_html(
            '<form method="post" action="{0}" hx-post="{0}" hx-target="{1}" '
            'hx-swap="outerHTML">{2}<input type="hidden" name="confirm" value="yes">'
            '<button type="submit" class="button small primary">{3}</button></form>',
            action.instead_url,
            target,
            token,
            action.instead_label,
        )
    return format_html(
        '<details class="confirm"{0}>'
        '<summary class="button small{1}" id="{2}">{3}</summary>'
        '<div class="confirm-box" role="group" aria-labelledby="{2}-q">'
        '<p id="{2}-q">{4}</p><div class="row">{5}{6}'
        '<button type="button" class="button small js-only" data-close-confirm>Cancel</button>'
        "</div></div></details>",
        mark_safe(" open") if row.confirm_open == action.kind else "",
        " primary" if action.primary else "",
        ident,
        action.button_label,
        action.confirm,
        answer,
        instead,
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
    (reversed once per script prefix)."""
    return reverse("catalog:image_detail", args=[0]).removesuffix("0/")


#: The "—" of an empty cell, and of "State since" for a VM not seen changing.
_NONE = '<span class="muted">—</span>'
_NOT_SEEN = (
    '<span class="muted" title="Not seen changing since the dashboard first listed it">—'
    '<span class="visually-hidden"> not seen changing</span></span>'
)


def row_html(row: VmRow, shown: Mapping[str, bool], catalog_image_base: str = "") -> SafeString:
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
            base = catalog_image_base or _catalog_image_base(get_script_prefix())
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
    return _e(template_localtime(value).isoformat())
