"""A local CA and a server certificate for the demo server's HTTPS.

Made with `cryptography` on first start into the instance folder. The CA stays
the same across starts, so a browser or `curl --cacert` that trusts it once
keeps trusting it; the server certificate is remade when it nears expiry, lacks
a host name asked for, or was not signed by the current CA (which is remade if
demo-ca.pem or demo-ca.key is lost).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
CERT_DAYS = 397
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the generated PEM files."""

    ca_cert: Path
    cert: Path
    key: Path


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Write a file; private keys readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _general_names(hostnames: list[str], networks: bool = False) -> list[x509.GeneralName]:
    """DNS names and IP addresses, as a certificate's SAN, or (networks=True) as
    NameConstraints subtrees of exactly those names (RFC 5280 §4.2.1.10)."""
    names: list[x509.GeneralName] = []
    for name in dict.fromkeys(hostnames):
        try:
            ip = ipaddress.ip_network(name) if networks else ipaddress.ip_address(name)
            names.append(x509.IPAddress(ip))
        except ValueError:
            names.append(x509.DNSName(name))
    return names


def _ca_covers(ca: x509.Certificate, hostnames: list[str]) -> bool:
    """The CA is name-constrained to (at least) these host names."""
    try:
        constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return False
    return set(_general_names(hostnames, networks=True)) <= set(constraints.permitted_subtrees or [])


def _make_ca(files: TLSFiles, hostnames: list[str]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A CA that can only vouch for the demo's own host names: trusting it in a browser
    or a CA bundle cannot let a stolen demo-ca.key impersonate any other site."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Playground demo CA")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.NameConstraints(
                permitted_subtrees=_general_names(hostnames, networks=True), excluded_subtrees=None
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
    _write(files.ca_cert.with_suffix(".key"), _key_pem(key), private=True)
    return cert, key


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Was `cert` signed by this CA's key? Every CA has the same name, so the
    issuer name alone cannot tell an old CA from the current one."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _needs_new_cert(path: Path, hostnames: list[str], ca: x509.Certificate) -> bool:
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    if not _signed_by(cert, ca) or cert.not_valid_after_utc - RENEW_BEFORE < _now():
        return True
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return not set(_general_names(hostnames)) <= set(san)


def ensure_certificates(directory: str | os.PathLike[str], hostnames: list[str]) -> TLSFiles:
    """The CA and server certificate files, made or renewed as needed."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # as the instance folder: owner only
    files = TLSFiles(directory / "demo-ca.pem", directory / "demo-server.pem", directory / "demo-server.key")
    ca_key_path = files.ca_cert.with_suffix(".key")
    hostnames = list(dict.fromkeys(["localhost", "127.0.0.1", "::1", *hostnames]))
    ca = None
    if files.ca_cert.exists() and ca_key_path.exists():
        ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        if ca_key.public_key() != ca.public_key():  # the two files are not one pair
            ca = None
    new_ca = ca is None or not _ca_covers(ca, hostnames)  # missing, mismatched, or for other names
    if new_ca:
        ca, ca_key = _make_ca(files, hostnames)
    # A new CA always gets a new server certificate: the old one would not verify with it.
    if not new_ca and not _needs_new_cert(files.cert, hostnames, ca):
        return files
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(_general_names(hostnames)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.key, _key_pem(key), private=True)
    _write(files.cert, cert.public_bytes(serialization.Encoding.PEM))
    return files
