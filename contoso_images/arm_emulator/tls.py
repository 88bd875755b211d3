"""The emulator's own certificate authority, made on first run, and the certificates it signs.

Why a CA and not one self-signed certificate: clients must *verify* the emulator exactly as
they verify Azure (never ``verify=False``), so they are given a CA to trust
(``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` / azure-core's ``connection_verify``), and the
server certificate is an ordinary leaf under it. The extensions follow what strict X.509
checking demands (Python 3.13's ``VERIFY_X509_STRICT``, which the Azure CLI uses since
2.77; docs/emulator-fidelity.md, azure-facts §16.4): the CA has a *critical*
``basicConstraints CA:TRUE``, a critical ``keyUsage keyCertSign, cRLSign`` and a Subject Key
Identifier; the leaf names its issuer with an Authority Key Identifier, carries the host names
in its SAN (hostname checks ignore the CN) and says ``extendedKeyUsage serverAuth``.

A second leaf for ``wrong-host.invalid`` under the same CA is what the server presents while a
"TLS failure" fault is switched on: the chain is fine, the name is not, so clients fail the way
they fail against a misconfigured endpoint.

Files (in ``var/emulator-tls/`` by default; keys are written ``0600``):

``ca.pem``         the CA certificate alone (``connection_verify=``),
``ca-bundle.pem``  certifi's public roots + the CA (``REQUESTS_CA_BUNDLE=``: the process can
                   still reach real HTTPS hosts, e.g. a package index),
``server.pem`` / ``server-key.pem``, ``wrong-host.pem`` / ``wrong-host-key.pem``, ``ca-key.pem``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
WRONG_HOST = "wrong-host.invalid"
CA_DAYS = 3650
LEAF_DAYS = 397  # the longest lifetime browsers accept for a server certificate
RENEW_BEFORE_DAYS = 30


def default_tls_dir() -> Path:
    """``$AZURE_EMULATOR_TLS_DIR``, else ``<repo>/var/emulator-tls``."""
    env = os.environ.get("AZURE_EMULATOR_TLS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "var" / "emulator-tls"


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA and the server certificates are."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def ca_bundle(self) -> Path:
        return self.directory / "ca-bundle.pem"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server-key.pem"

    @property
    def wrong_host_cert(self) -> Path:
        return self.directory / "wrong-host.pem"

    @property
    def wrong_host_key(self) -> Path:
        return self.directory / "wrong-host-key.pem"


def ensure_tls_files(
    directory: str | os.PathLike[str] | None = None, hosts: Sequence[str] = DEFAULT_HOSTS
) -> TlsFiles:
    """Create the CA (once) and the server certificates (when missing, expiring or not
    covering ``hosts``). Safe to call from several processes at once: a file lock
    serialises creation, so they all end up trusting the same CA."""
    files = TlsFiles(Path(directory) if directory is not None else default_tls_dir())
    files.directory.mkdir(parents=True, exist_ok=True)
    with _locked(files.directory / ".lock"):
        ca_key, ca_cert = _load_or_make_ca(files)
        names = tuple(dict.fromkeys([*hosts, *DEFAULT_HOSTS]))
        if _needs_leaf(files.server_cert, names):
            _write_leaf(files.server_cert, files.server_key, ca_key, ca_cert, names)
        if _needs_leaf(files.wrong_host_cert, (WRONG_HOST,)):
            _write_leaf(files.wrong_host_cert, files.wrong_host_key, ca_key, ca_cert, (WRONG_HOST,))
        if not files.ca_bundle.exists():
            _write_bundle(files)
    return files


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_or_make_ca(files: TlsFiles) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    if files.ca_cert.exists() and files.ca_key.exists():
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now():
            return key, cert
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso Images (local emulator)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Contoso Images emulator CA"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    _write_private(files.ca_key, _key_pem(key))
    _write_public(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
    # A new CA invalidates every leaf and the bundle made from the old one.
    for stale in (files.server_cert, files.wrong_host_cert, files.ca_bundle):
        stale.unlink(missing_ok=True)
    return key, cert


def _san_names(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    dns = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return {*dns, *ips}


def _needs_leaf(path: Path, names: Sequence[str]) -> bool:
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    expiring = cert.not_valid_after_utc - _now() < dt.timedelta(days=RENEW_BEFORE_DAYS)
    return expiring or not set(names) <= _san_names(cert)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_leaf(
    cert_path: Path,
    key_path: Path,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: Sequence[str],
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=LEAF_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))


def _write_bundle(files: TlsFiles) -> None:
    """certifi's roots followed by the emulator's CA (certifi ships with requests)."""
    try:
        import certifi

        public = Path(certifi.where()).read_bytes()
    except (ImportError, OSError):
        public = b""
    if public and not public.endswith(b"\n"):
        public += b"\n"
    _write_public(files.ca_bundle, public + files.ca_cert.read_bytes())
