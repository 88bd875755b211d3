"""The one type for "the person a request or a task acts for".

``request.user`` is ``User | AnonymousUser`` (django-stubs reads ``AUTH_USER_MODEL``); services,
selectors and rules take it as it comes, so they say so once here instead of ``Any``. Where the
system acts (a schedule, the billing guard) the callers pass ``None`` and say so with
``Person | None``. Nothing here imports ``django.contrib.auth.models`` at run time, so any
module may name the type before the apps are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, cast

from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    Person: TypeAlias = User | AnonymousUser
else:
    Person = object  # only annotations name it; checked by mypy, not at run time


def signed_in(user: Person) -> User:
    """The account behind ``user``, for the columns that record who asked.

    Every view that reaches a service requires sign-in and a permission an anonymous user
    never has, so an anonymous user here is a wiring mistake: refused, never recorded as no one.
    """
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        raise PermissionDenied("Sign in first: this action is recorded against your account.")
    return cast("User", user)
