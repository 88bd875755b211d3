"""The roles the tenant gives: claims mapped onto the role groups, and the groups kept in step.

A person's role groups (``operators``, ``reviewers``, ``auditors``) come from the ID token of
each sign-in and each role check: app roles (the ``roles`` claim, the values defined in the
app registration) or security groups (object ids in the ``groups`` claim), mapped by
``ENTRA_ROLE_MAP``. For a person who signs in with Entra ID the tenant is the only source:
a role group given by hand in the admin is taken away at the next check, and one the tenant
removed is gone within ``ENTRA_ROLES_MAX_AGE`` minutes. Groups that are not role groups are
left alone.

**Groups overage.** Past 200 groups, Entra ID leaves ``groups`` out of the token and puts
``_claim_names`` / ``_claim_sources`` (or ``hasgroups``) in its place, pointing at Microsoft
Graph (id-token-claims-reference). Reading Graph would need a directory permission
(GroupMember.Read.All) the dashboard does not otherwise need, so when a role depends on a
group and the token is past the limit, the sign-in is refused with what to ask for (an app
role, or a groups claim limited to the groups assigned to the application). With a map of
app roles only, the overage does not matter and is ignored.

Every change is made inside :func:`contoso_images.audit.context.acting`, so the audit record
keeps it with before and after (audit/access_changes.py), as the person's own, made "via"
the sign-in or the role check, with the roles the token claimed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from contoso_images.accounts import refusals
from contoso_images.accounts.config import EntraConfig, is_guid
from contoso_images.accounts.refusals import SignInRefused
from contoso_images.audit.context import acting
from contoso_images.core.roles import AUDITORS, OPERATORS, REVIEWERS, ROLES

#: What each role lets a person do, for the page that says what to ask for.
ROLE_WORDS = {
    OPERATORS: "see the VMs, start, stop, deallocate and restart them, and capture images",
    REVIEWERS: "review the image catalog: approve, reject and deprecate images",
    AUDITORS: "read the audit record and export it",
}


@dataclass(frozen=True)
class RoleDecision:
    roles_claimed: tuple[str, ...]
    groups_claimed: int
    #: Role group → the claim values that gave it.
    matched: dict[str, list[str]]
    overage: bool

    @property
    def granted(self) -> tuple[str, ...]:
        return tuple(role for role in ROLES if role in self.matched)

    def record_fields(self) -> dict[str, Any]:
        return {
            "roles_claimed": list(self.roles_claimed),
            "groups_claimed": self.groups_claimed,
            "groups_overage": self.overage,
            "roles_granted": list(self.granted),
            "granted_by": self.matched,
        }


def has_overage(claims: Mapping[str, Any]) -> bool:
    names = claims.get("_claim_names")
    return bool(claims.get("hasgroups")) or (isinstance(names, dict) and "groups" in names)


def decide(claims: Mapping[str, Any], config: EntraConfig) -> RoleDecision:
    """The role groups the token's claims give under ``ENTRA_ROLE_MAP``."""
    roles = [str(r) for r in claims.get("roles") or [] if isinstance(r, str)]
    groups = [str(g).lower() for g in claims.get("groups") or [] if isinstance(g, str)]
    overage = has_overage(claims)
    if overage and config.maps_groups:
        raise SignInRefused(
            refusals.GROUPS_OVERAGE,
            detail="The token carries the groups overage claim and ENTRA_ROLE_MAP maps groups.",
            claims=claims,
        )
    matched: dict[str, list[str]] = {}
    for value in [*roles, *groups]:
        role = config.role_map.get(value)
        if role in ROLES:
            matched.setdefault(role, []).append(value)
    return RoleDecision(tuple(roles), len(groups), matched, overage)


def what_to_ask_for(config: EntraConfig) -> list[dict[str, Any]]:
    """Each role: what it allows and the app roles or groups that give it."""
    rows = []
    for role in ROLES:
        values = sorted(k for k, v in config.role_map.items() if v == role)
        rows.append(
            {
                "role": role,
                "words": ROLE_WORDS.get(role, ""),
                "app_roles": [v for v in values if not is_guid(v)],
                "groups": [v for v in values if is_guid(v)],
            }
        )
    return rows


def apply(user: User, granted: Iterable[str], *, via: str, **parameters: Any) -> None:
    """Make the user's role groups exactly ``granted`` (other groups untouched)."""
    wanted = set(granted)
    with transaction.atomic(), acting(user, via, **parameters):
        current = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        remove = current - wanted
        add = wanted - current
        if remove:
            user.groups.remove(*Group.objects.filter(name__in=remove))
        if add:
            user.groups.add(*Group.objects.filter(name__in=add))
