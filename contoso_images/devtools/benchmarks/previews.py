"""What a benchmark needs to confirm a bulk action as a person does: the preview's ids.

"All VMs matching the filter" acts only on the VMs its preview listed, which the confirmation
carries in the ``previewed`` field (issue 20); a POST without it is refused. A benchmark
therefore opens the preview first and confirms with the ids it shows, like the browser.
"""

from __future__ import annotations

import html
import re
from typing import Any

_PREVIEWED = re.compile(r'name="previewed"\s+value="([^"]*)"')


def previewed_ids(client: Any, url: str, data: dict[str, str]) -> str:
    """GET the preview of ``data`` at ``url`` and return its ``previewed`` value ("" when the
    preview offers nothing to confirm: no VM matches, as in a quick run's small tenant)."""
    response = client.get(url, data)
    if response.status_code != 200:
        raise RuntimeError(f"the bulk preview answered {response.status_code}")
    found = _PREVIEWED.search(response.content.decode())
    return html.unescape(found.group(1)) if found else ""
