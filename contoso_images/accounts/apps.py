from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Signing in: Microsoft Entra ID (OpenID Connect through MSAL) with the roles the tenant
    gives, and local passwords kept for break-glass under the ``LOCAL_LOGIN`` policy.

    It sits above ``audit`` (it records sign-ins, refusals and the roles it grants) and
    below the feature apps, which know nothing of how people sign in. ``ready`` registers
    the configuration checks.
    """

    name = "contoso_images.accounts"
    label = "accounts"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from django.core import checks

        from contoso_images.accounts import config

        checks.register(config.check_settings, checks.Tags.security)
