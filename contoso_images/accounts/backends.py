"""Authentication backends: local passwords under the LOCAL_LOGIN policy, and Entra ID
sessions.

``LocalPasswordBackend`` is Django's ModelBackend, except that with ``LOCAL_LOGIN=false`` it
refuses every local password but those of the superusers listed in
``LOCAL_LOGIN_SUPERUSERS`` (break-glass accounts), in the dashboard's form, the admin's and
anything else calling ``authenticate``, and it ends the sessions such passwords opened
before. The refusal is written on the failed sign-in's audit event (its reason, outcome
"refused"), and django-axes counts it like a wrong password.

``EntraBackend`` authenticates nothing: users come in through the OpenID Connect callback
(services.complete), which names it as the session's backend. It restores a session only
while Entra ID sign-in is configured and the user still has an Entra ID identity.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from contoso_images.accounts import config
from contoso_images.accounts.models import EntraIdentity
from contoso_images.audit.models import Outcome
from contoso_images.audit.receivers import LOGIN_DETAILS_ATTRIBUTE

LOCAL_LOGIN_OFF = "Local passwords are turned off here (LOCAL_LOGIN=false): sign in with Microsoft."


class LocalPasswordBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if not getattr(settings, "LOCAL_LOGIN", True):
            user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
            if user is None or not config.local_login_allowed(user):
                # As long as a real check, so the answer's timing tells nothing.
                model().set_password(password or "")
                if request is not None:
                    setattr(
                        request,
                        LOGIN_DETAILS_ATTRIBUTE,
                        {
                            "outcome": Outcome.REFUSED,
                            "detail": LOCAL_LOGIN_OFF,
                            "parameters": {"reason": "local_login_off"},
                        },
                    )
                return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        user = super().get_user(user_id)
        if user is not None and not config.local_login_allowed(user):
            return None
        return user


class EntraBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        return None

    def get_user(self, user_id: Any) -> Any:
        if config.entra() is None:
            return None
        user = super().get_user(user_id)
        if user is None:
            return None
        if not EntraIdentity.objects.filter(user_id=user.pk).exists():
            return None
        return user
