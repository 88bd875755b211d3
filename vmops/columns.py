"""The VM list's columns: which exist, which a user may hide, and their sort links."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    #: The sort key of ``selectors.SORTS`` ("" when the column does not sort).
    sort: str = ""


#: Always shown: a VM is found by its name and read by its state.
NAME = Column("name", "Name", "name")
POWER_STATE = Column("power_state", "Power state", "power_state")
#: Shown unless the user hides them, in this order.
OPTIONAL_COLUMNS = (
    Column("size", "Size", "size"),
    Column("os", "OS"),
    Column("location", "Location", "location"),
    Column("tags", "Tags"),
    Column("image", "Image", "image"),
    Column("age", "Age", "created"),
    Column("changed", "State since", "changed"),
    # Stopped (allocated) VMs' compute per day, at list price (vmops.services.prices).
    Column("waste", "Waste per day", "waste"),
)
#: OS and generation also show under the image, so their own column starts hidden.
DEFAULT_COLUMNS = ("size", "location", "tags", "image", "age", "changed")


@dataclass(frozen=True)
class HeaderCell:
    key: str
    label: str
    sort_link: str
    aria_sort: str


def visible_columns(chosen: list[str] | None) -> list[Column]:
    """The columns to render, in their fixed order; ``None`` means the defaults."""
    wanted = set(DEFAULT_COLUMNS if chosen is None else chosen)
    return [NAME, POWER_STATE, *(c for c in OPTIONAL_COLUMNS if c.key in wanted)]


def shown(columns: list[Column]) -> dict[str, bool]:
    """``{key: True}`` for each column shown: the row tests each optional column once, in
    their fixed order, instead of walking the list with a chain of comparisons per cell."""
    return {c.key: True for c in columns}


def header_cells(columns: list[Column], *, sort: str, querystring: str) -> list[HeaderCell]:
    """Each column's header with the link that sorts by it (again: the other way round)."""
    prefix = f"{querystring}&" if querystring else ""
    cells = []
    for column in columns:
        link, aria = "", ""
        if column.sort:
            aria = {column.sort: "ascending", f"-{column.sort}": "descending"}.get(sort, "")
            link = f"{prefix}sort={'-' if sort == column.sort else ''}{column.sort}"
        cells.append(HeaderCell(column.key, column.label, link, aria))
    return cells
