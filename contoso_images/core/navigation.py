"""Where things are: each app registers its sections and its resource pages here.

Core is the bottom app, so it may not name the apps above it, not even as strings (a URL
name or a permission of vmops written in core is an arrow pointing up that no import
contract can see). Instead every app tells core, from ``AppConfig.ready``, which section it
adds to the top navigation, whom the home page sends there, and which of its pages opens a
resource of a given ARM type; core draws the navigation, sends people home and links
resources from what was registered. Registration is idempotent (keyed by URL name or
resource type), so a second ``ready`` changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.urls import reverse

from contoso_images.core.users import Person


@dataclass(frozen=True)
class Section:
    """One entry of the top navigation."""

    label: str
    url_name: str
    #: Any one of these lets a user see the section (the pages check again on the server).
    permissions: tuple[str, ...]
    #: Place in the navigation, smallest first.
    order: int
    #: The URL namespace whose pages mark this section as the one being shown.
    namespace: str
    #: (permission, priority): a user holding the permission may land here from the home
    #: page; of all sections, the smallest priority the user holds wins.
    home: tuple[tuple[str, int], ...] = ()
    #: Pages under this path mark this section, even inside another section's namespace (the
    #: billing guard's pages live in vmops' URLs but are a section of their own).
    path_prefix: str = ""


@dataclass(frozen=True)
class NavEntry:
    """A section as one user sees it on one page."""

    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class ResourceLink:
    """The page that opens a resource of one ARM type, given its ARM id as ``?id=``."""

    resource_type: str
    url_name: str
    permission: str


_sections: dict[str, Section] = {}
_resource_links: dict[str, ResourceLink] = {}


def register_section(
    label: str,
    *,
    url_name: str,
    permissions: Iterable[str],
    order: int,
    namespace: str,
    home: Iterable[tuple[str, int]] = (),
    path_prefix: str = "",
) -> None:
    """Add a section to the top navigation (and, with ``home``, to the home page's choice)."""
    _sections[url_name] = Section(
        label=label,
        url_name=url_name,
        permissions=tuple(permissions),
        order=order,
        namespace=namespace,
        home=tuple(home),
        path_prefix=path_prefix,
    )


def register_resource_link(resource_type: str, *, url_name: str, permission: str) -> None:
    """Say that ``url_name`` (called with ``?id=<ARM id>``) opens resources of this ARM type,
    for users holding ``permission``. ARM types are case-insensitive, and so is the lookup."""
    _resource_links[resource_type.lower()] = ResourceLink(resource_type, url_name, permission)


def sections() -> list[Section]:
    """Every registered section, in navigation order."""
    return sorted(_sections.values(), key=lambda section: (section.order, section.label))


def nav_entries(
    user: Person, *, current_namespace: str = "", current_path: str = ""
) -> list[NavEntry]:
    """The sections this user may see, with the one being shown marked: the section whose
    path prefix the page is under, else the one whose namespace it is in."""
    by_path = next(
        (
            s.url_name
            for s in sections()
            if s.path_prefix and current_path.startswith(s.path_prefix)
        ),
        None,
    )

    def current(section: Section) -> bool:
        if by_path is not None:
            return section.url_name == by_path
        return bool(current_namespace) and section.namespace == current_namespace

    return [
        NavEntry(label=section.label, url=reverse(section.url_name), current=current(section))
        for section in sections()
        if any(user.has_perm(permission) for permission in section.permissions)
    ]


def home_url_name(user: Person) -> str | None:
    """The URL name of the section this user's work starts in, or None without a role.

    Operators start at the VMs, managers at the catalog they review, admins at the audit
    log; the priorities each app registers say so, and a user with several roles lands
    where the most pressing one works.
    """
    choices = sorted(
        (priority, permission, section.url_name)
        for section in _sections.values()
        for permission, priority in section.home
    )
    for _, permission, url_name in choices:
        if user.has_perm(permission):
            return url_name
    return None


class ResourceLinks:
    """The resource pages one user may open, decided once per request (not once per row)."""

    def __init__(self, user: Person | None) -> None:
        self._user = user
        self._bases: dict[str, str] | None = None

    def _resolved(self) -> dict[str, str]:
        if self._bases is None:
            self._bases = {
                resource_type: reverse(link.url_name)
                for resource_type, link in _resource_links.items()
                if self._user is not None and self._user.has_perm(link.permission)
            }
        return self._bases

    def url(self, resource_type: str, resource_id: str) -> str:
        """The page of this resource, or "" when none is registered or the user may not open
        it (then the resource is shown as text)."""
        if not resource_type or not resource_id:
            return ""
        base = self._resolved().get(resource_type.lower())
        return f"{base}?id={quote(resource_id, safe='/')}" if base else ""


# --- What an app above adds to another app's pages --------------------------------------------


@dataclass(frozen=True)
class ResourceAction:
    """A button an app above adds to the pages of an object of a lower app ("Create VM" on a
    catalog image), without the lower app naming it."""

    key: str
    label: str
    url_name: str
    permission: str
    #: The query parameter that names the object: ``<url>?<param>=<pk>``.
    param: str
    #: Whether the object takes the action at all (an unapproved image: no "Create VM").
    offered: Callable[[Any], bool]


@dataclass(frozen=True)
class ResourcePanel:
    """A section an app above adds to an object's page ("VMs built from this image"):
    ``render(request, obj)`` returns its HTML (escaped by the app's own template)."""

    key: str
    name: str
    permission: str
    render: Callable[[Any, Any], str]


_resource_actions: dict[tuple[str, str], ResourceAction] = {}
_resource_panels: dict[tuple[str, str], ResourcePanel] = {}


def register_resource_action(
    key: str,
    *,
    label: str,
    url_name: str,
    permission: str,
    param: str,
    offered: Callable[[Any], bool] = lambda obj: True,
) -> None:
    """Add a button to the pages of objects of ``key`` (e.g. ``"catalog.image"``)."""
    _resource_actions[(key, url_name)] = ResourceAction(
        key, label, url_name, permission, param, offered
    )


def register_resource_panel(
    key: str, *, name: str, permission: str, render: Callable[[Any, Any], str]
) -> None:
    """Add a section to the page of an object of ``key``."""
    _resource_panels[(key, name)] = ResourcePanel(key, name, permission, render)


@dataclass(frozen=True)
class ActionLink:
    label: str
    url: str


def resource_actions(key: str, user: Any, obj: Any) -> list[ActionLink]:
    """The buttons registered for ``obj`` (an object of ``key``) that ``user`` may use."""
    return [
        ActionLink(action.label, f"{reverse(action.url_name)}?{action.param}={obj.pk}")
        for action in _resource_actions.values()
        if action.key == key and user.has_perm(action.permission) and action.offered(obj)
    ]


def resource_panels(key: str, request: Any, obj: Any) -> list[str]:
    """The HTML of each section registered for ``obj`` that the user may see."""
    return [
        panel.render(request, obj)
        for panel in _resource_panels.values()
        if panel.key == key and request.user.has_perm(panel.permission)
    ]
