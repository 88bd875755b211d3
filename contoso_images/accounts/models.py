"""Who a dashboard user is in Microsoft Entra ID."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EntraIdentity(models.Model):
    """The link from a Django user to one person of one tenant: ``tid`` + ``oid``.

    The key is the pair Microsoft documents as immutable and never reassigned ("use the
    immutable claim values tid and oid as a combined key", claims-validation; azure-facts
    §15.3), never the e-mail address or the UPN, which can be changed and handed to someone
    else. A guest has an ``oid`` of their own in each tenant, so a B2B guest is keyed by the
    guest object in the tenant that signs them in. The names are copies, refreshed at each
    sign-in, for people reading the admin and the audit record.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entra_identity"
    )
    #: The ``tid`` claim (lower-case GUID).
    tenant_id = models.CharField(max_length=36)
    #: The ``oid`` claim (lower-case GUID): the person in that tenant.
    object_id = models.CharField(max_length=36)
    #: ``preferred_username`` as last seen (display only: it can change).
    upn = models.CharField(max_length=300, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    #: ``idp`` when the person is a guest (their home tenant's issuer), else empty.
    identity_provider = models.CharField(max_length=300, blank=True)
    #: The ``roles`` claim and the role groups granted, as of the last sign-in or role check.
    roles_claimed = models.JSONField(default=list, blank=True)
    roles_granted = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Entra ID identity"
        verbose_name_plural = "Entra ID identities"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "object_id"], name="accounts_entra_identity_tid_oid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.upn or self.object_id} ({self.tenant_id})"
