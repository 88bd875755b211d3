"""The admin password of a create, kept encrypted for the one task that sends it, then dropped.

The password is typed into the form and must reach Azure's PUT body in a worker; between
the two it is in :class:`vmops.models.DeploymentSecret`, encrypted with Fernet under a key
derived from SECRET_KEY (HKDF with a purpose of its own, so the key is not SECRET_KEY reused).
The row is deleted as soon as Azure accepted the PUT, or when the operation ends either way:
after that the password exists nowhere here. The queue's payload is the operation's id.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from contoso_images.operations.models import Operation
from vmops.models import DeploymentSecret

_PURPOSE = b"contoso-images vm.create admin password"


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def keep(operation: Operation, password: str) -> None:
    """Store the password of ``operation``'s create, encrypted (inside the caller's
    transaction, so the task queued on commit finds it)."""
    DeploymentSecret.objects.update_or_create(
        operation=operation, defaults={"ciphertext": _fernet().encrypt(password.encode())}
    )


def read(operation: Operation) -> str:
    """The password, decrypted; "" when none was kept or it is gone (accepted, or SECRET_KEY
    changed since: the create is then refused before sending, with a sentence)."""
    row = DeploymentSecret.objects.filter(operation=operation).first()
    if row is None:
        return ""
    try:
        return _fernet().decrypt(bytes(row.ciphertext)).decode()
    except InvalidToken:
        return ""


def has(operation: Operation) -> bool:
    return DeploymentSecret.objects.filter(operation=operation).exists()


def forget(operation: Operation) -> None:
    """Delete the ciphertext: Azure has the password now, or will never need it."""
    DeploymentSecret.objects.filter(operation=operation).delete()
