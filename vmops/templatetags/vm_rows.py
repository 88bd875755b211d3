"""``{% vm_row_html row shown %}``: a VM's row of the list (``row_html``).

The list's loop and the row endpoint (htmx polls and swaps) both render the ``vm-row``
partial; the row is written out in Python, not cell by cell in the template.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import template
from django.utils.safestring import SafeString

from vmops.row_html import row_html
from vmops.rows import VmRow

register = template.Library()


@register.simple_tag
def vm_row_html(row: VmRow, shown: Mapping[str, bool]) -> SafeString:
    return row_html(row, shown or {})
