"""A catalog row's badges and decision buttons, written in Python (issue 19).

A page shows fifty rows; as template includes, their badges and buttons were most of the
page's cost (each a few dozen template nodes per row). Here each is one pass over a short
list, escaped by ``format_html`` like any template output; the markup is the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.forms import BoundField
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from catalog.models import CatalogImage
from catalog.rows import ImageRow
from contoso_images.core import navigation

register = template.Library()


def badges_of(image: CatalogImage) -> list[tuple[str, str, str]]:
    """(css class, words, title) of each badge the image shows, in order."""
    out = [(f"review-{image.review_status}", image.get_review_status_display(), "")]
    if image.gone_at:
        out.append(("badge-gone", "Deleted in Azure", ""))
    if image.is_latest:
        out.append(("badge-latest", "Latest", 'Azure deploys this version for "latest"'))
    if image.is_gallery_version and image.exclude_from_latest:
        out.append(("badge-excluded", "Excluded from latest", ""))
    if image.eol_passed:
        out.append(("badge-past-eol", f"Past end of life ({image.end_of_life_date:%Y-%m-%d})", ""))
    elif image.eol_soon:
        out.append(("badge-eol-soon", f"End of life {_day(image.end_of_life_date)}", ""))
    if image.image_state == "Deprecated":
        out.append(("badge-mp-deprecated", "Deprecated by its publisher", ""))
    elif image.image_state == "ScheduledForDeprecation":
        when = f" {_day(image.deprecation_time)}" if image.deprecation_time else ""
        out.append(("badge-eol-soon", f"Publisher deprecates it{when}", ""))
    if image.plan:
        out.append(
            ("badge-plan", "Plan: accept terms", "VMs from it need the plan's terms accepted")
        )
    return out


@register.simple_tag
def image_badges(image: CatalogImage) -> SafeString:
    """The review status and lifecycle of one image, in words and colour."""
    first, *rest = badges_of(image)
    status = format_html(
        '<span class="badge {}" data-review-status="{}">{}</span>',
        first[0],
        image.review_status,
        first[1],
    )
    others = format_html_join(
        "",
        '<span class="badge {}"{}>{}</span>',
        (
            (css, format_html(' title="{}"', title) if title else "", words)
            for css, words, title in rest
        ),
    )
    return format_html('<span class="badges">{}{}</span>', status, others)


def _decisions_html(row: ImageRow) -> SafeString:
    """A row's decisions: one-click ones are buttons of the page's shared form
    (#catalog-review: its token and ``next``); one that needs a note opens a dialog fetched
    when opened, with a link to the image's page (whose forms are inline) without script."""
    if row.operation:
        return mark_safe(
            '<div class="review-actions"><span class="hint">A decision is being carried out '
            "in Azure; the next one can be made when it has finished.</span></div>"
        )
    image = row.image
    url = f"{row.image_base}{image.pk}/"
    swap = image.row_id
    parts = []
    for offered in row.decisions:
        spec = offered.spec
        if not spec.note_required:
            parts.append(
                format_html(
                    '<button type="submit" form="catalog-review" formaction="{0}review/" '
                    'name="decision" value="{1}" hx-post="{0}review/" hx-target="#{2}" '
                    'hx-swap="outerHTML" class="button small primary" title="{3}">{4}</button>',
                    url,
                    spec.value,
                    swap,
                    offered.hint,
                    spec.label,
                )
            )
        else:
            # hx-target (the box) and hx-swap are inherited from the actions' <div>.
            parts.append(
                format_html(
                    '<details class="confirm" hx-get="{0}decide/{1}/" hx-trigger="toggle once">'
                    '<summary class="button small">{2}…</summary><div class="confirm-box">'
                    '<a href="{0}#image-status">On the image\'s page</a></div></details>',
                    url,
                    spec.value,
                    spec.label,
                )
            )
    return format_html(
        '<div class="review-actions" hx-target="find .confirm-box" hx-swap="innerHTML">{}</div>',
        mark_safe("".join(parts)),  # noqa: S308 - each part escaped by format_html
    )


@register.simple_tag(takes_context=True)
def image_row_html(context: Any, row: ImageRow) -> SafeString:
    """The whole ``<tr>`` of one image in the catalog list (and its row endpoint): its link and
    the buttons other apps registered, its badges and an effect under way, its facts, and its
    decisions. Written here rather than as template nodes for the same reason as the parts
    above: at fifty rows, the template's variable lookups were most of the page."""
    image = row.image
    base = row.image_base
    classes = ("row-gone" if image.gone_at else "") + (" row-latest" if image.is_latest else "")
    if row.polling and row.operation is not None:
        swap = format_html(
            ' hx-get="{}{}/row/?op={}" hx-trigger="every {}s" hx-target="this" hx-swap="outerHTML"',
            base,
            image.pk,
            row.operation.pk,
            row.poll_seconds,
        )
    elif image.definition_id:
        swap = format_html(
            ' hx-get="{}{}/row/" hx-trigger="catalog-definition-{} from:body" hx-target="this" '
            'hx-swap="outerHTML"',
            base,
            image.pk,
            image.definition_id,
        )
    else:
        swap = mark_safe("")
    name = image.display_name
    tick = (
        format_html(
            '<input type="checkbox" class="select" name="image" value="{}" form="catalog-bulk" '
            'aria-label="Tick {}">',
            image.pk,
            name,
        )
        if row.can_review
        else ""
    )
    buttons = ""
    request = context.get("request")
    if not image.gone_at and request is not None:
        buttons = format_html_join(
            "",
            ' <a class="button small" href="{}">{}'
            '<span class="visually-hidden"> from {}</span></a>',
            (
                (a.url, a.label, name)
                for a in navigation.resource_actions("catalog.image", request.user, image)
            ),
        )
    if image.is_marketplace:
        where = "Marketplace" + (
            " · always the latest version" if image.version == "latest" else ""
        )
    elif image.is_gallery_version:
        gallery = image.definition.gallery_name if image.definition else ""
        where = f"{gallery} · {image.resource_group}"
    else:
        where = f"Managed image · {image.resource_group}"
    status = [image_badges(image)]
    if row.no_latest:
        status.append(
            mark_safe(
                '<span class="badge badge-no-latest" title="Every version of its definition '
                'is excluded from latest">Definition has no latest version</span>'
            )
        )
    if row.operation or row.failed_effect:
        status.append(
            render_to_string(
                "catalog/includes/effect.html",
                {"operation": row.operation, "failed_effect": row.failed_effect},
            )
        )
    decide = (
        format_html('<td data-label="Decide">{}</td>', _decisions_html(row))
        if row.can_review
        else ""
    )
    return format_html(
        '<tr id="image-row-{}" class="{}"{}><td data-label="Image">{}<a class="name" '
        'href="{}{}/">{}</a>{}<span class="sub">{}</span></td>'
        '<td class="review-cell" data-label="Status">{}</td>{}{}</tr>',
        image.pk,
        classes,
        swap,
        tick,
        base,
        image.pk,
        name,
        buttons,
        where,
        mark_safe("".join(status)),  # noqa: S308 - each part escaped above
        row_facts(image),
        decide,
    )


@register.simple_tag
def filter_select(field: BoundField) -> SafeString:
    """A filter's label and <select>, as Django's widget would write them, in one pass:
    the widget's template per option cost more than the rows of the page."""
    current = str(field.value() or "")
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if str(value) == current else "", label)
            for value, label in field.field.choices  # type: ignore[attr-defined]
        ),
    )
    return format_html(
        '<label for="{0}">{1}:</label><select name="{2}" id="{0}">{3}</select>',
        field.id_for_label,
        field.label,
        field.html_name,
        options,
    )


def _day(value: Any) -> str:
    """A day or a moment as the template's ``date:"Y-m-d"`` writes it, a moment in the current
    time zone (as the template converts it before its filter; the filter called alone does
    not). Written out: the filter cost about 100 µs a call, a tenth of a row."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


@register.simple_tag
def row_facts(image: CatalogImage) -> SafeString:
    """A row's end of life, OS, region, replication and creation cells."""
    muted = '<span class="muted">{}</span>'
    if image.end_of_life_date:
        eol = format_html("{}", _day(image.end_of_life_date))
    else:
        eol = format_html(muted, "no end of life")
    os_sub = []
    if image.hyper_v_generation:
        os_sub.append(f"Gen {image.hyper_v_generation[1:]}")
    if image.architecture:
        os_sub.append(image.architecture)
    if image.security_type:
        os_sub.append(image.security_type)
    if image.is_gallery_version:
        count = len(image.replication or [])
        replication = format_html(
            '{}<span class="sub">{} region{}</span>',
            image.replication_state or "—",
            count,
            "" if count == 1 else "s",
        )
    elif image.is_marketplace:
        replication = format_html(muted, "Marketplace")
    else:
        replication = format_html(muted, "single region")
    if image.created_in_azure_at:
        created = format_html("{}", _day(image.created_in_azure_at))
    else:
        created = format_html(muted, f"seen {_day(image.first_seen_at)}")
    return format_html(
        '<td class="hide-sm" data-label="End of life">{}</td>'
        '<td class="col-inline" data-label="OS">{}<span class="sub">{}</span></td>'
        '<td class="col-inline" data-label="Region">{}</td>'
        '<td class="hide-sm" data-label="Replication">{}</td>'
        '<td class="hide-sm" data-label="Created">{}</td>',
        eol,
        image.os_type or "—",
        " · ".join(os_sub),
        image.location or "—",
        replication,
        created,
    )
