"""The actions cell of a VM row, written out in Python.

The list renders fifty rows of four actions each; through template tags that was most of the
page's cost (each button a dozen variable lookups, each form a ``{% csrf_token %}``). Built
here with ``format_html`` (every value escaped) it costs about what a bare template of the
same buttons does. The markup is the one the template had: the list offers what the VM can
do now; the VM page (``all_actions``) shows all four, the others disabled with the reason as
their description; a question that offers a safer action makes that one the primary button.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

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
