"""Throwaway self-signed certificates for tests: TLS servers, S/MIME and CAdES signers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID


def self_signed(
    common_name: str,
    *,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    extra_names: Sequence[x509.NameAttribute] = (),
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    days: int = 30,
) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
    """A certificate signed by its own key (EC P-256 unless `key` is given), valid from
    a day ago for `days` days, with the `extensions` given as (extension, critical)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([*extra_names, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256()), key
