"""Is a digital signature real? The integrity of CMS signatures (a `.p7m`, a PDF's
signature dictionary), checked with asn1crypto and cryptography.

A signature counts only when, for every signer, the digest of the signed bytes matches
the `messageDigest` the signer signed, and the signature over those attributes verifies
with the public key of the signer's certificate carried in the file. We check the
integrity of the signature, not the certificate chain: whether the certificate belongs to
a qualified provider is for the social services (their software checks it). A file whose
signature does not verify is treated as unsigned: its clean copy is kept instead.

A signed PDF is accepted only as the file its signatures cover: bytes after the covered
range must be incremental updates (each ending with `%%EOF`), nothing else; what those
updates may change is `dossier.signedpdf`'s to judge.

Offline we cannot check a certificate against the EU trust list, so `signers_of` says who
issued each signer's certificate, or that it is self-signed: the social services read it
in the back-office and verify the file with their own software.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha3_256": hashes.SHA3_256,
    "sha3_384": hashes.SHA3_384,
    "sha3_512": hashes.SHA3_512,
}
_EOF = re.compile(rb"%%EOF[\r\n\x00 \t\f]*")
_TRAILING = re.compile(rb"[\r\n\x00 \t\f]*")
MAX_SIGNATURES = 20


def load_signed_data(der: bytes) -> cms.SignedData | None:
    """The SignedData of a CMS ContentInfo, or None. Strict: a single DER (or BER)
    element, nothing after it."""
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            return None
        signed = info["content"]
        _ = signed.native  # parse it all now: a broken inner structure fails here
        return signed
    except Exception:
        return None


def _digest(algorithm: str, parts: list[bytes]) -> bytes | None:
    factory = _HASHES.get(algorithm)
    if factory is None:
        return None
    h = hashes.Hash(factory())
    for part in parts:
        h.update(part)
    return h.finalize()


def _certificate(signed: cms.SignedData, sid: cms.SignerIdentifier) -> Any:
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                cert.issuer == wanted["issuer"]
                and cert.serial_number == wanted["serial_number"].native
            ):
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    return None


def _verify(public_der: bytes, signer: cms.SignerInfo, message: bytes, digest_name: str) -> bool:
    key = load_der_public_key(public_der)
    signature = signer["signature"].native
    algorithm = signer["signature_algorithm"]
    name = algorithm.signature_algo
    hash_factory = _HASHES.get(digest_name)
    try:
        hash_name = algorithm.hash_algo
        hash_factory = _HASHES.get(hash_name, hash_factory)
    except (ValueError, KeyError):
        pass
    try:
        if isinstance(key, rsa.RSAPublicKey) and hash_factory is not None:
            if name == "rsassa_pss":
                params = algorithm["parameters"]
                pss_hash = _HASHES[params["hash_algorithm"]["algorithm"].native]()
                mgf_hash = _HASHES[params["mask_gen_algorithm"]["parameters"]["algorithm"].native]()
                key.verify(
                    signature,
                    message,
                    padding.PSS(padding.MGF1(mgf_hash), params["salt_length"].native),
                    pss_hash,
                )
            else:
                key.verify(signature, message, padding.PKCS1v15(), hash_factory())
        elif isinstance(key, ec.EllipticCurvePublicKey) and hash_factory is not None:
            key.verify(signature, message, ec.ECDSA(hash_factory()))
        elif isinstance(key, dsa.DSAPublicKey) and hash_factory is not None:
            key.verify(signature, message, hash_factory())
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, message)
        else:
            return False
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def _signer_ok(signed: cms.SignedData, signer: cms.SignerInfo, content: bytes) -> bool:
    cert = _certificate(signed, signer["sid"])
    if cert is None:
        return False
    digest_name = signer["digest_algorithm"]["algorithm"].native
    attrs = signer["signed_attrs"]
    if not attrs.native:  # no signed attributes: the signature is over the content
        return _verify(cert.public_key.dump(), signer, content, digest_name)
    digest = _digest(digest_name, [content])
    told = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if digest is None or told != [digest]:
        return False
    # the signature covers the attributes' DER with the SET OF tag, not the [0] one
    message = b"\x31" + attrs.dump()[1:]
    return _verify(cert.public_key.dump(), signer, message, digest_name)


def cms_verifies(signed: cms.SignedData, content: bytes) -> bool:
    """Every signer of `signed` signed `content` (at least one signer)."""
    signers = list(signed["signer_infos"])
    if not signers or len(signers) > MAX_SIGNATURES:
        return False
    try:
        return all(_signer_ok(signed, signer, content) for signer in signers)
    except Exception:  # any malformed part: not a signature we can verify
        return False


def p7m_verified(der: bytes) -> tuple[bytes | None, bool]:
    """The content of an attached CMS signature (a .p7m) and whether its signers verify.
    (None, False) if the file is not a single SignedData (bytes after it included) or
    carries no content."""
    signed = load_signed_data(der)
    if signed is None:
        return None, False
    try:
        content = signed["encap_content_info"]["content"].native
    except Exception:
        return None, False
    if content is None:
        return None, False
    content = bytes(content)
    return content, cms_verifies(signed, content)


def _timestamp_ok(signed: cms.SignedData, covered: list[bytes]) -> bool:
    """A document timestamp (ETSI.RFC3161): the token's imprint is the covered bytes'
    digest, and the token itself verifies."""
    encap = signed["encap_content_info"]
    raw = bytes(encap["content"])  # the TSTInfo's DER, as signed
    info = tsp.TSTInfo.load(raw)
    imprint = info["message_imprint"]
    digest = _digest(imprint["hash_algorithm"]["algorithm"].native, covered)
    if digest is None or digest != imprint["hashed_message"].native:
        return False
    return cms_verifies(signed, raw)


def pdf_signature_verifies(data: bytes, byte_range: list[int], contents: bytes) -> bool:
    """A PDF signature: `byte_range` [a, b, c, d] covers the file but the hex string of
    /Contents, and the CMS in `contents` signed exactly those bytes."""
    if len(byte_range) != 4 or not all(isinstance(n, int) and n >= 0 for n in byte_range):
        return False
    start, first, second, length = byte_range
    if start != 0 or first <= 0 or second < first or second + length > len(data):
        return False
    gap = data[first:second]  # the hex string of /Contents, and only it
    if not re.fullmatch(rb"<[0-9A-Fa-f\s]*>", gap):
        return False
    covered = [data[0:first], data[second : second + length]]
    signed = _load_padded(contents)
    if signed is None:
        return False
    try:
        if signed["encap_content_info"]["content_type"].native == "tst_info":
            return _timestamp_ok(signed, covered)
    except Exception:
        return False
    return cms_verifies(signed, b"".join(covered))


def _load_padded(contents: bytes) -> cms.SignedData | None:
    """/Contents is zero-padded: the DER is its first element; the rest must be zeros."""
    try:
        info = cms.ContentInfo.load(contents, strict=False)
        used = len(info.dump())
    except Exception:
        return None
    if contents[used:].strip(b"\x00"):
        return None
    return load_signed_data(contents[:used])


def tail_is_updates(data: bytes, covered_end: int) -> bool:
    """After the signed bytes, only incremental updates (each with its xref or xref
    stream, `startxref` and `%%EOF`) and white space; no payload glued on."""
    rest = data[covered_end:]
    position = 0
    while True:
        if _TRAILING.fullmatch(rest, position):
            return True
        found = _EOF.search(rest, position)
        if found is None:
            return False
        update = rest[position : found.start()]
        if b"startxref" not in update or not (b"xref" in update or b"/XRef" in update):
            return False
        position = found.end()


# --- who issued the signer's certificate ------------------------------------------------------

MAX_ISSUER = 160  # characters of an issuer's name kept (it is the sender's to write)


@dataclass(frozen=True)
class Signer:
    """Who issued a signer's certificate (its organisation and name, as the certificate
    says), and whether it is self-signed: made by anyone with `openssl req -x509`."""

    issuer: str
    self_signed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "self_signed": self.self_signed}


def _issuer_name(cert: Any) -> str:
    names = cert.issuer.native if cert is not None else {}
    parts = [
        str(names.get(key) or "")
        for key in ("organization_name", "organizational_unit_name", "common_name")
    ]
    seen: list[str] = []
    for part in parts:
        part = " ".join("".join(c for c in part if c.isprintable()).split())
        if part and part not in seen:
            seen.append(part)
    return " – ".join(seen)[:MAX_ISSUER] or "?"


def _self_signed(cert: Any) -> bool:
    """Issued by itself: issuer and subject alike and its own key verifies it."""
    if cert.issuer != cert.subject:
        return False
    try:
        parsed = x509.load_der_x509_certificate(cert.dump())
        parsed.verify_directly_issued_by(parsed)
    except Exception:  # names alike but another key signed it: a CA of the same name
        return False
    return True


def signers_of(signed: cms.SignedData) -> list[Signer]:
    """Each signer's certificate: who issued it, self-signed or not (distinct ones)."""
    found: list[Signer] = []
    try:
        for info in list(signed["signer_infos"])[:MAX_SIGNATURES]:
            cert = _certificate(signed, info["sid"])
            if cert is None:
                continue
            signer = Signer(_issuer_name(cert), _self_signed(cert))
            if signer not in found:
                found.append(signer)
    except Exception:  # a malformed part: nothing to say about it
        return found
    return found


def pdf_signers(contents: bytes) -> list[Signer]:
    """The signers of a PDF signature's /Contents (a document timestamp: its authority)."""
    signed = _load_padded(contents)
    return signers_of(signed) if signed is not None else []


def p7m_signers(der: bytes) -> list[Signer]:
    signed = load_signed_data(der)
    return signers_of(signed) if signed is not None else []
