"""The catalog list's columns: which exist, which hide on small screens, and their sort links."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.selectors import SORTS


@dataclass(frozen=True)
class Column:
    label: str
    #: The sort key of ``selectors.SORTS`` ("" when the column does not sort).
    sort: str = ""
    #: Hidden on small screens: an image is found by its name and read by its status.
    hide_small: bool = False


COLUMNS = (
    Column("Image", "name"),
    Column("Status", "status"),
    Column("End of life", "eol", hide_small=True),
    Column("OS", hide_small=True),
    Column("Region", "location", hide_small=True),
    Column("Replication", hide_small=True),
    Column("Created", "created", hide_small=True),
)


@dataclass(frozen=True)
class HeaderCell:
    label: str
    hide_small: bool
    sort_link: str
    aria_sort: str


def header_cells(*, sort: str, querystring: str) -> list[HeaderCell]:
    """Each column's header with the link that sorts by it; a second click sorts the other
    way round where the list knows that order (``selectors.SORTS``)."""
    prefix = f"{querystring}&" if querystring else ""
    cells = []
    for column in COLUMNS:
        link, aria = "", ""
        if column.sort:
            key = column.sort
            aria = {key: "ascending", f"-{key}": "descending"}.get(sort, "")
            descending = sort == key and f"-{key}" in SORTS
            link = f"{prefix}sort={'-' if descending else ''}{key}"
        cells.append(HeaderCell(column.label, column.hide_small, link, aria))
    return cells
