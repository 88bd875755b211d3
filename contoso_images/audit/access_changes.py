"""Every change of who may do what, with what was before and what is after.

Users (created, changed, deleted), groups (created, renamed, deleted), group membership,
the permissions of users and of groups, and unlocking a user that django-axes locked out.
Until these receivers, the audit record saw sign-ins and operations but not the Django
admin, ``create_user``, ``changepassword`` or ``axes_reset_username``: a person could be
made a superuser, or given the operators' group, and the record would not say so.

Who made a change, in this order:

* code that says so with :func:`contoso_images.audit.context.acting` (the Entra ID sign-in
  granting the roles the tenant gives, accounts/roles.py);
* the request being served (the Django admin, or any page): its signed-in user;
* a management command (``create_user``, ``createsuperuser``, ``changepassword``,
  ``axes_reset_username``, ``shell``…): ``command: <name>``, found on the call stack, so a
  command nobody taught to record (Django's, django-axes') is recorded all the same.

Not recorded: ``migrate`` (it sets the role groups' permissions from code, core/roles.py,
which is reviewed where the code is) and ``flush`` (it empties the database, the record
included); and code run outside any request or command (a test's fixtures, a script of
its own). Each receiver runs inside the transaction that makes the change, like every
``record``: a change whose record cannot be written does not happen.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from contoso_images.audit import context
from contoso_images.audit.services.recording import Subject, record

#: Commands whose changes are not a person's decision (see the module docstring).
UNRECORDED_COMMANDS = frozenset({"migrate", "flush"})
#: User fields that decide who may do what or who someone is (``password`` is compared
#: but never written down; ``last_login`` changes at every sign-in and says nothing new).
USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)
UNTRACKED_UPDATES = frozenset({"last_login"})
_BEFORE = "_audit_access_before"
_M2M_BEFORE = "_audit_access_m2m_before"


@dataclass(frozen=True)
class Who:
    actor: Any
    by: str
    parameters: dict[str, Any] = field(default_factory=dict)


def running_command() -> str | None:
    """The innermost management command on the call stack (``create_user``), if any."""
    from django.core.management.base import BaseCommand

    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_argcount and code.co_varnames[0] == "self":
            owner = frame.f_locals.get("self")
            if isinstance(owner, BaseCommand):
                return type(owner).__module__.rsplit(".", 1)[-1]
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _admin_prefix() -> str:
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return "/admin/"


def who() -> Who | None:
    """Who is changing access now, or None when the change is not to be recorded."""
    acting = context.current_acting()
    if acting is not None:
        return Who(acting.actor, acting.via, dict(acting.parameters))
    request = context.current_request()
    if request is not None:
        by = "admin" if request.path.startswith(_admin_prefix()) else f"page {request.path}"
        return Who(context.request_user(request), by)
    command = running_command()
    if command is None or command in UNRECORDED_COMMANDS:
        return None
    return Who(None, f"command: {command}")


def _user_subject(user: User) -> Subject:
    return Subject(kind="user", id=f"user:{user.pk}", name=user.get_username())


def _group_subject(group: Any) -> Subject:
    return Subject(kind="group", id=f"group:{group.pk}", name=group.name)


def _record(action: str, target: Subject, who_: Who, detail: str, **result: Any) -> None:
    record(
        action=action,
        actor=who_.actor,
        target=target,
        parameters={"by": who_.by, **who_.parameters},
        result=result,
        detail=f"{detail} (by {who_.by}).",
    )


# --- Users -----------------------------------------------------------------------------------


def _user_state(user: User) -> dict[str, Any]:
    state = {name: getattr(user, name) for name in USER_FIELDS}
    state["password"] = "usable" if user.has_usable_password() else "unusable"
    return state


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in after if before.get(name) != after[name]]


def user_pre_save(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any
) -> None:
    if raw or (update_fields is not None and set(update_fields) <= UNTRACKED_UPDATES):
        return
    if instance.pk is None or who() is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    if old is not None:
        setattr(instance, _BEFORE, (_user_state(old), old.password))


def user_post_save(
    sender: Any,
    instance: Any,
    created: bool,
    raw: bool = False,
    update_fields: Any = None,
    **kw: Any,
) -> None:
    if raw or (update_fields is not None and set(update_fields) <= UNTRACKED_UPDATES):
        return
    saved = instance.__dict__.pop(_BEFORE, None)
    who_ = who()
    if who_ is None:
        return
    after = _user_state(instance)
    if created:
        _record(
            "auth.user.created",
            _user_subject(instance),
            who_,
            f"User {instance.get_username()} created",
            before={},
            after=after,
        )
        return
    if saved is None:
        return
    before, old_hash = saved
    changed = _changes(before, after)
    if old_hash != instance.password and "password" not in changed:
        changed.append("password")
        before["password"], after["password"] = "the old password", "a new password"
    if not changed:
        return
    _record(
        "auth.user.changed",
        _user_subject(instance),
        who_,
        f"User {instance.get_username()} changed: {', '.join(changed)}",
        changed=changed,
        before={name: before.get(name) for name in changed},
        after={name: after[name] for name in changed},
    )


def user_pre_delete(sender: Any, instance: Any, **kw: Any) -> None:
    if who() is not None:
        # Captured now: the memberships are deleted before the user, without m2m signals.
        setattr(
            instance,
            _BEFORE,
            {
                **_user_state(instance),
                "groups": _labels("groups", instance),
                "permissions": _labels("user_permissions", instance),
            },
        )


def user_post_delete(sender: Any, instance: Any, **kw: Any) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    who_ = who()
    if who_ is None or before is None:
        return
    _record(
        "auth.user.deleted",
        _user_subject(instance),
        who_,
        f"User {instance.get_username()} deleted",
        before=before,
        after={},
    )


# --- Groups ----------------------------------------------------------------------------------


def group_pre_save(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    if raw or instance.pk is None or who() is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).values_list("name", flat=True).first()
    if old is not None:
        setattr(instance, _BEFORE, old)


def group_post_save(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw:
        return
    old_name = instance.__dict__.pop(_BEFORE, None)
    who_ = who()
    if who_ is None:
        return
    if created:
        _record(
            "auth.group.created",
            _group_subject(instance),
            who_,
            f"Group {instance.name} created",
            before={},
            after={"name": instance.name},
        )
    elif old_name is not None and old_name != instance.name:
        _record(
            "auth.group.renamed",
            _group_subject(instance),
            who_,
            f"Group {old_name} renamed {instance.name}",
            before={"name": old_name},
            after={"name": instance.name},
        )


def group_pre_delete(sender: Any, instance: Any, **kw: Any) -> None:
    if who() is not None:
        members = sorted(
            get_user_model()
            ._default_manager.filter(groups=instance)
            .values_list(get_user_model().USERNAME_FIELD, flat=True)
        )
        setattr(
            instance,
            _BEFORE,
            {
                "name": instance.name,
                "members": members,
                "permissions": _labels("permissions", instance),
            },
        )


def group_post_delete(sender: Any, instance: Any, **kw: Any) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    who_ = who()
    if who_ is None or not isinstance(before, dict):
        return
    _record(
        "auth.group.deleted",
        _group_subject(instance),
        who_,
        f"Group {instance.name} deleted with its {len(before['members'])} member(s)",
        before=before,
        after={},
    )


# --- Membership and permissions (many-to-many) -------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """One many-to-many that decides access: its owner side and how it is written down."""

    owner_model: Any
    field: str  # the owner's attribute: groups, user_permissions, permissions
    action: str
    noun: str


def _labels(field_name: str, owner: Any) -> list[str]:
    related = getattr(owner, field_name)
    if field_name == "groups":
        return sorted(related.values_list("name", flat=True))
    return sorted(
        f"{app}.{codename}"
        for app, codename in related.values_list("content_type__app_label", "codename")
    )


def _relations() -> dict[Any, Relation]:
    user_model = get_user_model()
    return {
        user_model.groups.through: Relation(
            user_model, "groups", "auth.user.groups_changed", "groups"
        ),
        user_model.user_permissions.through: Relation(
            user_model, "user_permissions", "auth.user.permissions_changed", "permissions"
        ),
        Group.permissions.through: Relation(
            Group, "permissions", "auth.group.permissions_changed", "permissions"
        ),
    }


def _owners(relation: Relation, instance: Any, reverse: bool, pk_set: Any) -> Iterable[Any]:
    if not reverse:
        return [instance]
    manager = relation.owner_model._default_manager
    if pk_set is not None:
        return list(manager.filter(pk__in=pk_set))
    return list(manager.filter(**{relation.field: instance}))


def on_m2m_changed(
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    model: Any,
    pk_set: Any,
    **kw: Any,
) -> None:
    relation = _relations().get(sender)
    if relation is None or action not in _M2M_ACTIONS:
        return
    phase, kind = action.split("_", 1)
    key = (sender, kind)
    if phase == "pre":
        if who() is None:
            return
        owners = _owners(relation, instance, reverse, pk_set)
        stash = instance.__dict__.setdefault(_M2M_BEFORE, {})
        stash[key] = [(owner, _labels(relation.field, owner)) for owner in owners]
        return
    saved = instance.__dict__.get(_M2M_BEFORE, {}).pop(key, None)
    who_ = who()
    if saved is None or who_ is None:
        return
    for owner, before in saved:
        after = _labels(relation.field, owner)
        if before == after:
            continue
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        owner_is_group = relation.owner_model is Group
        name = owner.name if owner_is_group else owner.get_username()
        words = "; ".join(
            part
            for part in (
                f"added {', '.join(added)}" if added else "",
                f"removed {', '.join(removed)}" if removed else "",
            )
            if part
        )
        _record(
            relation.action,
            _group_subject(owner) if owner_is_group else _user_subject(owner),
            who_,
            f"{relation.noun.capitalize()} of {'group' if owner_is_group else 'user'} {name}: "
            f"{words}",
            before=before,
            after=after,
            added=added,
            removed=removed,
        )


_M2M_ACTIONS = frozenset(
    {"pre_add", "post_add", "pre_remove", "post_remove", "pre_clear", "post_clear"}
)


# --- Unlocking a user locked out by django-axes -------------------------------------------------


def _still_locked(attempt: Any) -> bool:
    """Whether the deleted attempt was a lockout in force (not one that had expired, nor
    one under the limit, which a successful sign-in resets)."""
    from axes.helpers import get_cool_off

    limit = getattr(settings, "AXES_FAILURE_LIMIT", 3)
    if isinstance(limit, int) and attempt.failures_since_start < limit:
        return False
    try:
        cool_off = get_cool_off(None)
    except (TypeError, AttributeError):
        cool_off = None
    return cool_off is None or attempt.attempt_time > timezone.now() - cool_off


def on_access_attempt_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    if not _still_locked(instance):
        return
    who_ = who()
    if who_ is None:
        command = running_command()
        if command in UNRECORDED_COMMANDS:
            return
        who_ = Who(None, "the system")
    username = str(instance.username or "")[:150]
    _record(
        "auth.unlocked",
        Subject(kind="user", id="", name=username),
        who_,
        f"Sign-in unlocked for {username or 'an unnamed user'} from "
        f"{instance.ip_address or 'any address'} after {instance.failures_since_start} "
        "failed attempts",
        before={
            "locked": True,
            "username": username,
            "ip_address": instance.ip_address,
            "failures": instance.failures_since_start,
        },
        after={"locked": False},
    )


def connect() -> None:
    """Connect every receiver (AuditConfig.ready)."""
    from axes.models import AccessAttempt

    user_model = get_user_model()
    uid = "contoso_images.audit.access"
    pre_save.connect(user_pre_save, sender=user_model, dispatch_uid=f"{uid}.user_pre_save")
    post_save.connect(user_post_save, sender=user_model, dispatch_uid=f"{uid}.user_post_save")
    pre_delete.connect(user_pre_delete, sender=user_model, dispatch_uid=f"{uid}.user_pre_delete")
    post_delete.connect(user_post_delete, sender=user_model, dispatch_uid=f"{uid}.user_post_delete")
    pre_save.connect(group_pre_save, sender=Group, dispatch_uid=f"{uid}.group_pre_save")
    post_save.connect(group_post_save, sender=Group, dispatch_uid=f"{uid}.group_post_save")
    pre_delete.connect(group_pre_delete, sender=Group, dispatch_uid=f"{uid}.group_pre_delete")
    post_delete.connect(group_post_delete, sender=Group, dispatch_uid=f"{uid}.group_post_delete")
    for through in _relations():
        m2m_changed.connect(on_m2m_changed, sender=through, dispatch_uid=f"{uid}.m2m.{through}")
    post_delete.connect(
        on_access_attempt_deleted, sender=AccessAttempt, dispatch_uid=f"{uid}.axes_unlock"
    )
