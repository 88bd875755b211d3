"""The local-password form, with the sentence a refused local password gets."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from contoso_images.accounts.backends import LOCAL_LOGIN_OFF


class LocalAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password didn't match. Please try again.",
        "local_login_off": LOCAL_LOGIN_OFF,
    }

    def get_invalid_login_error(self) -> forms.ValidationError:
        """With LOCAL_LOGIN off every refused password gets the policy's sentence, a listed
        break-glass account's wrong password included: the answer never tells which names
        may still use a password."""
        if not getattr(settings, "LOCAL_LOGIN", True):
            return forms.ValidationError(
                self.error_messages["local_login_off"], code="local_login_off"
            )
        return super().get_invalid_login_error()
