"""PEC receipts as a provider sends them, for tests.

`build_receipt` makes the whole message: the X-Ricevuta headers, then a `multipart/signed`
body whose first part (`multipart/mixed`: the human text in plain and HTML, the original
message as `postacert.eml` for a "completa" delivery receipt, `daticert.xml` in base64)
is signed with a real detached S/MIME signature (DER, `smime.p7s`) by a self-signed test
certificate, over the exact bytes that travel.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import functools
import secrets
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.certs import self_signed

SENDER = "sportello@pec.example.it"
PROVIDER_MAILBOX = "posta-certificata@pec.gestore-prova.it"

SUBJECT_PREFIX = {
    "accettazione": "ACCETTAZIONE",
    "non-accettazione": "AVVISO DI NON ACCETTAZIONE",
    "presa-in-carico": "PRESA IN CARICO",
    "avvenuta-consegna": "CONSEGNA",
    "errore-consegna": "AVVISO DI MANCATA CONSEGNA",
    "preavviso-errore-consegna": "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO",
    "rilevazione-virus": "PROBLEMA DI SICUREZZA",
}
ERROR_CODE = {
    "non-accettazione": "altro",
    "errore-consegna": "no-dest",
    "preavviso-errore-consegna": "altro",
    "rilevazione-virus": "virus",
}
HUMAN_TEXT = {
    "accettazione": "è stato accettato dal sistema ed inoltrato.",
    "non-accettazione": "non è stato accettato per il seguente errore: {error}",
    "presa-in-carico": "è stato preso in carico dal gestore del destinatario.",
    "avvenuta-consegna": "è stato consegnato nella casella di destinazione.",
    "errore-consegna": "non è stato consegnato per il seguente errore: {error}",
    "preavviso-errore-consegna": "non risulta consegnato entro 12 ore: {error}",
    "rilevazione-virus": "contiene un virus e non è stato consegnato: {error}",
}


@functools.cache
def signer() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed certificate of a test PEC provider, and its key (made once)."""
    cert, key = self_signed(
        PROVIDER_MAILBOX,
        key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        extra_names=[
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gestore PEC di prova"),
        ],
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectAlternativeName([x509.RFC822Name(PROVIDER_MAILBOX)]), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
        ],
    )
    return cert, key  # type: ignore[return-value]


def signer_pem() -> bytes:
    return signer()[0].public_bytes(serialization.Encoding.PEM)


def daticert_xml(
    kind: str,
    refers_to: str,
    *,
    at: dt.datetime,
    recipient: str,
    subject: str,
    provider: str,
    error: str | None,
    error_code: str,
    identifier: str,
    receipt_type: str | None,
) -> bytes:
    """daticert.xml as the technical rules lay it out."""
    zone = at.strftime("%z") or "+0000"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE postacert SYSTEM "daticert.dtd">',
        f"<postacert tipo={quoteattr(kind)} errore={quoteattr(error_code)}>",
        "  <intestazione>",
        f"    <mittente>{escape(SENDER)}</mittente>",
        f'    <destinatari tipo="certificato">{escape(recipient)}</destinatari>',
        f"    <risposte>{escape(SENDER)}</risposte>",
        f"    <oggetto>{escape(subject)}</oggetto>",
        "  </intestazione>",
        "  <dati>",
        f"    <gestore-emittente>{escape(provider)}</gestore-emittente>",
        f"    <data zona={quoteattr(zone)}>",
        f"      <giorno>{at:%d/%m/%Y}</giorno>",
        f"      <ora>{at:%H:%M:%S}</ora>",
        "    </data>",
        f"    <identificativo>{escape(identifier)}</identificativo>",
        f"    <msgid>{escape(refers_to)}</msgid>",
    ]
    if receipt_type:
        lines.append(f"    <ricevuta tipo={quoteattr(receipt_type)} />")
    if kind in ("avvenuta-consegna", "errore-consegna", "preavviso-errore-consegna"):
        lines.append(f"    <consegna>{escape(recipient)}</consegna>")
    if error:
        lines.append(f"    <errore-esteso>{escape(error)}</errore-esteso>")
    lines += ["  </dati>", "</postacert>", ""]
    return "\n".join(lines).encode("utf-8")


def build_receipt(
    kind: str,
    refers_to: str,
    *,
    at: dt.datetime,
    recipient: str,
    subject: str,
    provider: str = "Gestore PEC di prova",
    error: str | None = None,
    completa_original: bytes | None = None,
    message_id: str | None = None,
    header_refers_to: str | None = None,
    daticert: bytes | None = None,
    daticert_cte: str = "base64",
    protocol: str = "application/pkcs7-signature",
) -> bytes:
    """A PEC receipt of `kind` about our message `refers_to`, signed.

    Test knobs: `header_refers_to` puts another id in X-Riferimento-Message-ID ("" leaves
    the header out); `daticert` replaces the XML bytes; `daticert_cte` its encoding;
    `protocol` the signature type (`application/x-pkcs7-signature` for older providers).
    """
    if at.tzinfo is None:
        raise ValueError("at must be aware")
    stamp = at.strftime("%Y%m%d%H%M%S")
    identifier = f"opec21010.{stamp}.{secrets.randbelow(10**6)}.1.1@pec.gestore-prova.it"
    message_id = message_id or f"<{identifier}>"
    receipt_type = None
    if kind == "avvenuta-consegna":
        receipt_type = "completa" if completa_original is not None else "sintetica"
    xml = daticert or daticert_xml(
        kind,
        refers_to,
        at=at,
        recipient=recipient,
        subject=subject,
        provider=provider,
        error=error,
        error_code=ERROR_CODE.get(kind, "nessuno"),
        identifier=identifier,
        receipt_type=receipt_type,
    )

    human = (
        f"Ricevuta: {kind}\n\n"
        f"Il giorno {at:%d/%m/%Y} alle ore {at:%H:%M:%S} ({at:%z}) il messaggio\n"
        f'"{subject}" proveniente da "{SENDER}"\n'
        f'ed indirizzato a "{recipient}"\n'
        + HUMAN_TEXT[kind].format(error=error or "")
        + f"\nIdentificativo messaggio: {identifier}\n"
    )
    inner = EmailMessage(policy=policy.SMTP)
    inner.make_mixed()
    body = EmailMessage(policy=policy.SMTP)
    body.set_content(human, subtype="plain", charset="utf-8", cte="quoted-printable")
    body.add_alternative(
        f"<html><body><p>{escape(human).replace(chr(10), '<br>')}</p></body></html>",
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    inner.attach(body)
    if completa_original is not None:
        original = BytesParser(policy=policy.SMTP).parsebytes(completa_original)
        inner.add_attachment(original, filename="postacert.eml")
    inner.add_attachment(
        xml,
        maintype="application",
        subtype="xml",
        filename="daticert.xml",
        cte=daticert_cte,
    )
    # The signed content is the entity exactly as it travels (CRLF line ends).
    signed_part = inner.as_bytes(policy=policy.SMTP)
    cert, key = signer()
    signature = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(signed_part)
        .add_signer(cert, key, hashes.SHA256())
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )
    encoded_signature = base64.encodebytes(signature).replace(b"\n", b"\r\n")

    boundary = f"----=_Part_{secrets.token_hex(12)}"
    full_subject = f"{SUBJECT_PREFIX[kind]}: {subject}"
    headers = [
        ("Return-Path", f"<{PROVIDER_MAILBOX}>"),
        ("Date", email.utils.format_datetime(at)),
        ("From", f'"Posta Certificata" <{PROVIDER_MAILBOX}>'),
        ("To", SENDER),
        ("Subject", Header(full_subject, "utf-8").encode()),
        ("Message-ID", message_id),
        ("X-Ricevuta", kind),
    ]
    header_id = refers_to if header_refers_to is None else header_refers_to
    if header_id:
        headers.append(("X-Riferimento-Message-ID", header_id))
    headers += [
        ("X-Verificasicurezza", "normale"),
        ("MIME-Version", "1.0"),
        (
            "Content-Type",
            f'multipart/signed; protocol="{protocol}"; micalg=sha-256;\r\n boundary="{boundary}"',
        ),
    ]
    out = b"".join(f"{name}: {value}\r\n".encode() for name, value in headers)
    out += b"\r\nThis is an S/MIME signed message\r\n"
    out += f"\r\n--{boundary}\r\n".encode() + signed_part
    out += f"\r\n--{boundary}\r\n".encode()
    out += (
        f'Content-Type: {protocol}; name="smime.p7s"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="smime.p7s"\r\n'
        "Content-Description: S/MIME Cryptographic Signature\r\n\r\n"
    ).encode()
    out += encoded_signature + f"\r\n--{boundary}--\r\n".encode()
    return out


def ordinary_mail(subject: str = "Re: Domanda Misura B2", body: str = "Buongiorno") -> bytes:
    """A plain e-mail (a reply from the comune's office): not a receipt."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "ufficio.servizisociali@comune.rozzano.mi.it"
    msg["To"] = SENDER
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = email.utils.make_msgid(domain="comune.rozzano.mi.it")
    msg.set_content(body)
    return msg.as_bytes()


def original_message(message_id: str, subject: str, recipient: str) -> bytes:
    """Our own message as it went out (for a "completa" delivery receipt)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = SENDER
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(dt.datetime(2025, 6, 12, 10, 41, tzinfo=dt.UTC))
    msg["Message-ID"] = message_id
    msg.set_content("Domanda in allegato.")
    msg.add_attachment(
        b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="domanda.pdf"
    )
    return msg.as_bytes()
