"""Hostile files, made in memory: what an attacker (or a very unlucky phone) sends.

Used by the tests and by `benchmarks/hostile_bench.py`. Nothing here is a stored binary:
every file is built by these functions, most of them by hand so that the bytes say
exactly what the test needs.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw

# --- PDFs, by hand --------------------------------------------------------------------------


def pdf_of(objects: list[bytes | str], root: int = 1, trailer_extra: str = "") -> bytes:
    """A PDF whose objects are numbered from 1 in the order given, with exact offsets."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        raw = body.encode("latin-1") if isinstance(body, str) else body
        out += f"{number} 0 obj\n".encode() + raw + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R {trailer_extra} >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def stream(data: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(data)} {extra} >>\nstream\n".encode() + data + b"\nendstream"


PAGE_TEXT = b"BT /F1 24 Tf 72 720 Td (Verbale della commissione medica) Tj ET"
FONT = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page_pdf(
    catalog_extra: str = "", page_extra: str = "", objects: tuple[bytes | str, ...] = ()
) -> bytes:
    """Catalog 1, pages 2, page 3, contents 4, font 5; `objects` from 6 on."""
    return pdf_of(
        [
            f"<< /Type /Catalog /Pages 2 0 R {catalog_extra} >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            f"/Resources << /Font << /F1 5 0 R >> >> {page_extra} >>",
            stream(PAGE_TEXT),
            FONT,
            *objects,
        ]
    )


def many_pages_pdf(pages: int, fanout: int = 1000, declared: int | None = None) -> bytes:
    """A PDF that declares `pages` pages: one page object, referenced over and over from
    a two-level page tree (small on disk: six bytes per page)."""
    nodes = max(1, -(-pages // fanout))
    first_node = 5
    objects: list[bytes | str] = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids ["
        + " ".join(f"{first_node + n} 0 R" for n in range(nodes))
        + f"] /Count {pages if declared is None else declared} >>",
        f"<< /Type /Page /Parent {first_node} 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream(b"BT ET"),
    ]
    left = pages
    for _ in range(nodes):
        here = min(fanout, left)
        left -= here
        objects.append(
            "<< /Type /Pages /Parent 2 0 R /Kids ["
            + " 3 0 R" * here
            + f"] /Count {here if declared is None else 1} >>"
        )
    return pdf_of(objects)


def lying_count_pdf(real_pages: int, declared: int = 1) -> bytes:
    """The page tree says `declared` pages but holds `real_pages` references."""
    return many_pages_pdf(real_pages, declared=declared)


def xfa_with_script() -> bytes:
    xdp = (
        b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform>'
        b'<event activity="initialize"><script contentType="application/x-javascript">'
        b"xfa.host.messageBox('ciao')</script></event></subform></template></xdp:xdp>"
    )
    return one_page_pdf(
        catalog_extra="/AcroForm << /Fields [] /XFA 6 0 R >> /NeedsRendering true",
        objects=(stream(xdp),),
    )


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"PE\x00\x00"


def file_attachment_annotation() -> bytes:
    """An annotation carrying an executable, its stream without /Type /EmbeddedFile."""
    return one_page_pdf(
        page_extra="/Annots [6 0 R]",
        objects=(
            "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /Name /Paperclip "
            "/FS << /Type /Filespec /F (fattura.exe) /UF (fattura.exe) /EF << /F 7 0 R >> >> >>",
            stream(EXE),
        ),
    )


def open_action_gotor() -> bytes:
    return one_page_pdf(
        catalog_extra="/OpenAction << /S /GoToR /F (\\\\\\\\10.0.0.9\\\\share\\\\x.pdf) "
        "/D [0 /Fit] /NewWindow true >>"
    )


def open_action_uri() -> bytes:
    return one_page_pdf(catalog_extra="/OpenAction << /S /URI /URI (http://10.0.0.9/t) >>")


def page_aa_uri() -> bytes:
    return one_page_pdf(page_extra="/AA << /O << /S /URI /URI (http://10.0.0.9/p) >> >>")


def javascript_link() -> bytes:
    return one_page_pdf(
        page_extra="/Annots [6 0 R]",
        objects=(
            "<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] "
            "/A << /S /URI /URI (javascript:app.alert\\(1\\)) >> >>",
        ),
    )


def launch_action() -> bytes:
    return one_page_pdf(catalog_extra="/OpenAction << /S /Launch /F (cmd.exe) >>")


def embedded_file() -> bytes:
    return one_page_pdf(
        catalog_extra="/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>",
        objects=(
            "<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>",
            stream(EXE, "/Type /EmbeddedFile"),
        ),
    )


def javascript_open_action() -> bytes:
    return one_page_pdf(catalog_extra="/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")


_SIG_PLACEHOLDER = 8192  # hex digits kept for the signature in /Contents
_RANGE_PLACEHOLDER = "0000000000 0000000000 0000000000"


def signed_pdf(
    catalog_extra: str = "",
    page_extra: str = "",
    objects: tuple[str, ...] = (),
    *,
    forge: bool = False,
    after: bytes = b"",
) -> bytes:
    """A PDF digitally signed for real (CMS, detached, over its /ByteRange, with a
    throwaway certificate). `forge`: the signed bytes are changed after signing (the
    signature no longer verifies). `after`: bytes appended once signed."""
    signature = (
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        f"/ByteRange [0 {_RANGE_PLACEHOLDER}] /Contents <{'0' * _SIG_PLACEHOLDER}> >>"
    )
    field = "<< /FT /Sig /T (Firma) /V 6 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>"
    annots = "/Annots [7 0 R]"
    pdf = one_page_pdf(
        catalog_extra=f"/AcroForm << /Fields [7 0 R] /SigFlags 3 >> {catalog_extra}",
        page_extra=f"{annots} {page_extra}",
        objects=(signature, field, *objects),
    )
    return sign_placeholder(pdf, forge=forge) + after


def fake_signed_pdf(catalog_extra: str = "") -> bytes:
    """A signature dictionary that signs nothing: /ByteRange and /Contents made up."""
    signature = (
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        "/ByteRange [0 10 20 30] /Contents <00> >>"
    )
    field = "<< /FT /Sig /T (Firma) /V 6 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>"
    return one_page_pdf(
        catalog_extra=f"/AcroForm << /Fields [7 0 R] /SigFlags 3 >> {catalog_extra}",
        page_extra="/Annots [7 0 R]",
        objects=(signature, field),
    )


def p7m_without_signer(content: bytes) -> bytes:
    """A CMS SignedData around `content` with no SignerInfo at all."""
    from asn1crypto import algos, cms

    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": cms.DigestAlgorithms(
                [algos.DigestAlgorithm({"algorithm": "sha256"})]
            ),
            "encap_content_info": {"content_type": "data", "content": content},
            "signer_infos": cms.SignerInfos([]),
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def sign_placeholder(pdf: bytes, *, forge: bool = False) -> bytes:
    """Fill in the /ByteRange and /Contents placeholders of `pdf` with a real signature."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    from tests.certs import self_signed

    start = pdf.index(b"/Contents <" + b"0" * _SIG_PLACEHOLDER) + len(b"/Contents ")
    end = start + _SIG_PLACEHOLDER + 2
    numbers = f"{start:010d} {end:010d} {len(pdf) - end:010d}".encode()
    pdf = pdf.replace(_RANGE_PLACEHOLDER.encode(), numbers, 1)
    covered = pdf[:start] + pdf[end:]
    cert, key = self_signed("Firma di prova")
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(covered)
        .add_signer(cert, key, hashes.SHA256())  # type: ignore[arg-type]
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )
    hexed = der.hex().encode().ljust(_SIG_PLACEHOLDER, b"0")
    signed = pdf[: start + 1] + hexed + pdf[end - 1 :]
    if forge:  # a changed page after signing: (B2) becomes (B3)
        signed = signed.replace(b"(Verbale", b"(Vxrbale", 1)
    return signed


def deep_pdf(depth: int = 5000) -> bytes:
    """Arrays nested thousands deep: a parser that recurses falls over."""
    return one_page_pdf(catalog_extra="/Deep " + "[" * depth + "]" * depth)


def flate_bomb_pdf(megabytes: int = 300) -> bytes:
    """A content stream of a few hundred KB that inflates to hundreds of MB."""
    squeezer = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    packed = b"".join(squeezer.compress(chunk) for _ in range(megabytes)) + squeezer.flush()
    return pdf_of(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            stream(packed, "/Filter /FlateDecode"),
        ]
    )


# --- images ---------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


@lru_cache(maxsize=8)
def png_rgba(width: int, height: int, ink: bool = True) -> bytes:
    """A whole, valid RGBA PNG of any size, written row by row (a 9000 x 9000 one is a few
    hundred KB: the "small PNG" that decodes to 300 MB). With `ink`, a dark band every
    64 rows, so it is not blank."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    squeezer = zlib.compressobj(9)
    blank = b"\0" + b"\xff" * (4 * width)
    dark = b"\0" + b"\x20\x20\x20\xff" * width
    parts = []
    for y in range(height):
        parts.append(squeezer.compress(dark if ink and y % 64 < 8 else blank))
    parts.append(squeezer.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def page_image(size: tuple[int, int]) -> Image.Image:
    """A sheet of paper with lines of 'text'."""
    width, height = size
    img = Image.new("RGB", size, (245, 243, 238))
    draw = ImageDraw.Draw(img)
    step = max(height // 40, 8)
    for y in range(step * 2, height - step, step):
        draw.rectangle((width // 10, y, width - width // 5, y + step // 3), fill=(30, 30, 40))
    return img


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


@lru_cache(maxsize=8)
def jpeg_page(width: int, height: int, progressive: bool = False, quality: int = 85) -> bytes:
    return encoded(page_image((width, height)), "JPEG", quality=quality, progressive=progressive)


def zip_with_exe() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("setup.exe", EXE * 10)
    return out.getvalue()


def jpeg_with_zip() -> bytes:
    """A photo with a ZIP (holding an .exe) appended: it opens as a photo and as an archive."""
    return jpeg_page(1200, 1600) + zip_with_exe()


def jpeg_declaring(width: int, height: int) -> bytes:
    """A JPEG header declaring a huge size, and almost no data after it."""
    real = jpeg_page(480, 480)
    sof = real.index(b"\xff\xc0")
    return real[: sof + 5] + struct.pack(">HH", height, width) + real[sof + 9 :]


# --- signed PDFs as signing tools make them (pyHanko), and what is done to them after ---------


def _pyhanko_signer(common_name: str):  # type: ignore[no-untyped-def]
    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from tests.certs import self_signed

    cert, key = self_signed(common_name)
    der_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    der_key = keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signers.SimpleSigner(
        signing_cert=der_cert,
        signing_key=der_key,
        cert_registry=SimpleCertificateStore.from_certs([der_cert]),
    )


def pades_signed(pdf: bytes, field: str = "Firma1", signer: str = "Firma di prova") -> bytes:
    """`pdf` signed as a signing tool does it: an incremental update with a signature
    field, its widget and a CMS signature (pyHanko, a throwaway certificate)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name=field)
    return signers.sign_pdf(writer, meta, signer=_pyhanko_signer(signer)).getvalue()


def with_dss(signed: bytes) -> bytes:
    """A signed PDF plus the update long-term validation adds: a Document Security Store
    with the certificates."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from tests.certs import self_signed

    cert, _key = self_signed("CA di prova")
    der = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    contents = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].pkcs7_content
    out = io.BytesIO(signed)
    DocumentSecurityStore.add_dss(out, contents, certs=[der])
    return out.getvalue()


def updated(signed: bytes, objects: dict[int, bytes], size: int) -> bytes:
    """`signed` plus an incremental update (re)writing `objects` {number: body}."""
    import re

    startxref = int(re.findall(rb"startxref\s+(\d+)", signed)[-1])
    out = bytearray(signed)
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for number, offset in offsets.items():
        out += f"{number} 1\n{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {size} /Root 1 0 R /Prev {startxref} >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def text_changed_after_signing() -> bytes:
    """A signed PDF whose page text an update replaces ("shadow attack")."""
    new_text = b"BT /F1 24 Tf 72 720 Td (TESTO CAMBIATO DOPO LA FIRMA) Tj ET"
    return updated(signed_pdf(), {4: stream(new_text)}, size=8)


def repeated_key_pdfs() -> dict[str, bytes]:
    """The red team's: pypdf reads the first of two keys, pdfium (Chrome) the last."""
    signature = (
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        f"/ByteRange [0 {_RANGE_PLACEHOLDER}] /Contents <{'0' * _SIG_PLACEHOLDER}> >>"
    )
    field = "<< /FT /Sig /T (Firma) /V 6 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>"
    form = "/AcroForm << /Fields [7 0 R] /SigFlags 3 >>"
    exe = stream(EXE * 4, "/Type /EmbeddedFile").decode("latin-1")
    xdp = stream(b"<xdp:xdp><template><script>app.alert(1)</script></template></xdp:xdp>")
    attachment = (
        "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 50 50] "
        "/FS << /Type /Filespec /F (x.exe) /EF << /F 8 0 R >> >> >>"
    )
    names = (
        "/Names << /Dests << >> >> /Names << /EmbeddedFiles << /Names [(fattura.exe) "
        "<< /Type /Filespec /F (fattura.exe) /EF << /F 8 0 R >> >>] >> >>"
    )
    return {
        "signed, /Names twice (the second with an exe)": sign_placeholder(
            one_page_pdf(f"{form} {names}", "/Annots [7 0 R]", (signature, field, exe))
        ),
        "signed, page /Annots twice (the second with a file)": sign_placeholder(
            one_page_pdf(
                form,
                "/Annots [7 0 R] /Annots [7 0 R 9 0 R]",
                (signature, field, exe, attachment),
            )
        ),
        "signed, /AcroForm twice (the second with XFA)": sign_placeholder(
            one_page_pdf(
                f"{form} /AcroForm << /Fields [7 0 R] /SigFlags 3 /XFA 8 0 R >>",
                "/Annots [7 0 R]",
                (signature, field, xdp.decode("latin-1")),
            )
        ),
        "unsigned, page /Contents twice": one_page_pdf(
            page_extra="/Contents 6 0 R", objects=(stream(b"BT /F1 9 Tf (altro) Tj ET"),)
        ),
    }


def many_objects_pdf(count: int) -> bytes:
    """`count` trivial objects, all reached from the catalog (the red team's slow refusal:
    300,000 of them are 17 MB)."""
    objects: list[bytes | str] = [
        "<< /Type /Catalog /Pages 2 0 R /Big 4 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        "[" + " ".join(f"{i} 0 R" for i in range(5, 5 + count)) + "]",
    ]
    objects += ["<< /A 1 >>"] * count
    return pdf_of(objects)


# --- what pypdf and the viewers read differently, and payloads they reach ---------------------


def xref_stream_pdf(
    direct: dict[int, bytes], packed: list[tuple[int, bytes]], index_of: dict[int, int]
) -> bytes:
    """A PDF with a cross-reference stream: `direct` objects {number: body} written as
    they are, `packed` (number, body) in one compressed object stream (numbered after
    them, in that order, the same number twice if asked), and `index_of` {number: index}
    the index the cross-reference gives for each packed object. Catalog: object 1."""
    stm_num = max([*direct, *(n for n, _ in packed)]) + 1
    xref_num = stm_num + 1
    body = b""
    positions = []
    for number, raw in packed:
        positions.append(f"{number} {len(body)}")
        body += raw + b"\n"
    header = " ".join(positions).encode() + b"\n"
    packed_data = zlib.compress(header + body)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(direct):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + direct[number] + b"\nendobj\n"
    offsets[stm_num] = len(out)
    out += (
        (
            f"{stm_num} 0 obj\n<< /Type /ObjStm /N {len(packed)} /First {len(header)} "
            f"/Length {len(packed_data)} /Filter /FlateDecode >>\nstream\n"
        ).encode()
        + packed_data
        + b"\nendstream\nendobj\n"
    )
    xref = offsets[xref_num] = len(out)
    rows = []
    for number in range(xref_num + 1):
        if number in offsets:
            rows.append((1, offsets[number], 0))
        elif number in index_of:
            rows.append((2, stm_num, index_of[number]))
        else:
            rows.append((0, 0, 65535 if number == 0 else 0))
    table = b"".join(bytes([t]) + f.to_bytes(4, "big") + g.to_bytes(2, "big") for t, f, g in rows)
    out += (
        (
            f"{xref_num} 0 obj\n<< /Type /XRef /Size {xref_num + 1} /W [1 4 2] /Root 1 0 R "
            f"/Length {len(table)} >>\nstream\n"
        ).encode()
        + table
        + b"\nendstream\nendobj\n"
    )
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


_SIGNATURE = (
    "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
    f"/ByteRange [0 {_RANGE_PLACEHOLDER}] /Contents <{'0' * _SIG_PLACEHOLDER}> >>"
)
_FIELD = "<< /FT /Sig /T (Firma) /V 6 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>"


def catalog_twice(*, signed: bool) -> bytes:
    """The red team's: the catalog (object 1) twice in one compressed object stream.
    pypdf reads the first, a clean one; pdfium and pdf.js the one the cross-reference
    gives, which attaches `fattura.exe` (stream 8) and opens the attachments panel."""
    form = "/AcroForm << /Fields [7 0 R] /SigFlags 3 >> " if signed else ""
    annots = "/Annots [7 0 R]" if signed else ""
    exe = zlib.compress(EXE * 20)
    direct = {
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: (
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            f"/Resources << /Font << /F1 5 0 R >> >> {annots} >>"
        ).encode(),
        4: stream(PAGE_TEXT),
        5: FONT.encode(),
        8: f"<< /Length {len(exe)} /Filter /FlateDecode >>\nstream\n".encode()
        + exe
        + b"\nendstream",
    }
    if signed:
        direct[6] = _SIGNATURE.encode()
        direct[7] = _FIELD.encode()
    clean = f"<< /Type /Catalog /Pages 2 0 R {form}/PieceInfo 8 0 R >>".encode()
    shown = (
        f"<< /Type /Catalog /Pages 2 0 R {form}/Names << /EmbeddedFiles << /Names "
        "[(fattura.exe) << /Type /Filespec /F (fattura.exe) /EF << /F 8 0 R >> >>] >> >> "
        "/PageMode /UseAttachments >>"
    ).encode()
    pdf = xref_stream_pdf(direct, [(1, clean), (1, shown)], {1: 1})
    return sign_placeholder(pdf) if signed else pdf


def linearized_pdf(hint: bytes = b"\x00" * 20, hint_extra: str = "") -> bytes:
    """A one-page PDF laid out as "fast web view" writes it: the linearization dictionary
    first (/L the file's length, /H where the hint stream is), the hint stream reached by
    nothing, by design. Catalog 2."""
    pdf = pdf_of(
        [
            "<< /Linearized 1 /L LLLLLLLLLL /H [HHHHHHHHHH 20] /O 4 /E 1 /N 1 /T 1 >>",
            "<< /Type /Catalog /Pages 3 0 R >>",
            "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
            "/Resources << /Font << /F1 6 0 R >> >> >>",
            stream(PAGE_TEXT),
            FONT,
            stream(hint, hint_extra),
        ],
        root=2,
    )
    pdf = pdf.replace(b"LLLLLLLLLL", f"{len(pdf):010d}".encode())
    return pdf.replace(b"HHHHHHHHHH", f"{pdf.index(b'7 0 obj'):010d}".encode())


def fake_linearized() -> bytes:
    """The red team's: a self-signed PDF with an executable in a stream nothing reaches,
    and a made-up /Linearized dictionary (not the file's first object) naming that
    stream's offset as its hint stream."""
    payload = stream(EXE * 40, "/Type /EmbeddedFile").decode("latin-1")

    def build(offset: int) -> bytes:
        lin = f"<< /Linearized 1 /L 1 /H [{offset:010d} 0000000100] /O 3 /E 1 /N 1 /T 1 >>"
        return signed_pdf(objects=(payload, lin))

    return build(build(0).index(b"\n8 0 obj\n") + 1)


def signed_again(pdf: bytes, times: int) -> list[bytes]:
    """`pdf` signed `times` times in a row by a signing tool (pyHanko), each signature in
    a field of its own: the file after each signature."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    signer = _pyhanko_signer("Firma ripetuta")
    made = []
    for number in range(times):
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(field_name=f"Firma{number + 1}")
        pdf = signers.sign_pdf(writer, meta, signer=signer).getvalue()
        made.append(pdf)
    return made


def visibly_signed_again(
    signed: bytes, box: tuple[int, int, int, int] = (0, 0, 595, 842), text: str = ""
) -> bytes:
    """The red team's: after the first signature, a throwaway second one whose widget
    covers `box` (the whole page) with an opaque white box of other text (pyHanko rates
    it form filling of a signature field)."""
    from pyhanko.pdf_utils.content import RawContent
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.layout import BoxConstraints
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    width, height = box[2] - box[0], box[3] - box[1]
    cover = RawContent(
        f"1 1 1 rg 0 0 {width} {height} re f".encode(), box=BoxConstraints(width, height)
    )
    style = TextStampStyle(
        stamp_text=text or "ISEE ordinario: 1.234,00 EUR\nTESTO AGGIUNTO DOPO LA FIRMA",
        border_width=0,
        background=cover,
        background_opacity=1.0,
        text_box_style=TextBoxStyle(font_size=20),
    )
    signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Firma2"),
        _pyhanko_signer("Chiunque"),
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec("Firma2", on_page=0, box=box),
    )
    return signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(signed))).getvalue()


def visibly_signed(pdf: bytes) -> bytes:
    """`pdf` signed once with a visible signature box (the signer's name, bottom left)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Firma1"),
        _pyhanko_signer("Mario Rossi"),
        new_field_spec=fields.SigFieldSpec("Firma1", on_page=0, box=(50, 50, 250, 100)),
    )
    return signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()


# A Windows program's first bytes as a linker writes them: the MZ header pointing (at
# 0x3C) to the PE header at 0x80, the DOS stub's words between.
PROGRAM = (
    (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".ljust(0x3C, b"\x00")
        + (0x80).to_bytes(4, "little")
        + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21"
        + b"This program cannot be run in DOS mode.\r\r\n$"
    ).ljust(0x80, b"\x00")
    + b"PE\x00\x00\x4c\x01\x03\x00"
    + b"\x00" * 200
)


def reached_payloads() -> dict[str, bytes]:
    """The red team's: self-signed PDFs with a payload in an object the walk reaches (or
    in a string), which no viewer runs but anyone can take out of the kept file."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    archive = zlib.compress(zip_with_exe())
    flate = f"<< /Length {len(archive)} /Filter /FlateDecode >>\nstream\n".encode()
    hidden_zip = (flate + archive + b"\nendstream").decode("latin-1")
    metadata = hidden_zip.replace("<< ", "<< /Type /Metadata /Subtype /XML ", 1)
    program = zlib.compress(PROGRAM * 4)
    hidden_program = (
        f"<< /Length {len(program)} /Filter /FlateDecode >>\nstream\n".encode()
        + program
        + b"\nendstream"
    ).decode("latin-1")
    local_entries = zip_with_exe()[: zip_with_exe().index(b"PK\x01\x02")]
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf()))
    certs = generic.StreamObject(stream_data=zip_with_exe())
    certs.compress()
    dss = generic.DictionaryObject(
        {generic.NameObject("/Certs"): generic.ArrayObject([writer.add_object(certs)])}
    )
    writer.root[generic.NameObject("/DSS")] = writer.add_object(dss)
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return {
        "a compressed ZIP under a made-up catalog key": signed_pdf(
            catalog_extra="/Sportello 8 0 R", objects=(hidden_zip,)
        ),
        "a compressed ZIP as the catalog's /Metadata": signed_pdf(
            catalog_extra="/Metadata 8 0 R", objects=(metadata,)
        ),
        "a compressed ZIP as a /Certs stream of a DSS update": out.getvalue(),
        "a ZIP's entries without its end record": signed_pdf(
            catalog_extra="/Sportello 8 0 R",
            objects=(stream(local_entries).decode("latin-1"),),
        ),
        "a compressed program under a made-up catalog key": signed_pdf(
            catalog_extra="/Sportello 8 0 R", objects=(hidden_program,)
        ),
        "a program as a hex string nothing reaches": signed_pdf(
            objects=("<" + (PROGRAM * 2).hex() + ">",)
        ),
        "a program as a hex string under a made-up key": signed_pdf(
            catalog_extra="/Sportello <" + PROGRAM.hex() + ">"
        ),
    }


def misplaced_object_signed() -> bytes:
    """A signed PDF whose cross-reference puts object 5 (the font) three bytes early:
    pypdf looks for "5 0 obj" in the bytes instead (a repair; a viewer may take another)."""
    pdf = one_page_pdf(
        catalog_extra="/AcroForm << /Fields [7 0 R] /SigFlags 3 >>",
        page_extra="/Annots [7 0 R]",
        objects=(_SIGNATURE, _FIELD),
    )
    offset = pdf.index(b"\n5 0 obj") + 1
    row = f"{offset:010d} 00000 n \n".encode()
    return sign_placeholder(pdf.replace(row, f"{offset - 3:010d} 00000 n \n".encode()))


_HTML_ATTACHMENT = b"<html><body><script>location='http://example.invalid/'</script></body></html>"


def catalog_listed_twice(how: str, *, signed: bool) -> bytes:
    """The red team's fourth pass: the catalog (object 1) listed twice by the
    cross-reference, a clean copy (reaching stream 8 through a made-up key) and one that
    attaches stream 8 (`fattura.html`, an HTML page with a script: no archive, no
    program) and opens the attachments panel. pypdf takes one, pdfium the other:
    - "generations": `1 0 obj` and `1 1 obj`, both listed; /Root 1 0 R reads the clean
      one, pdfium (which looks objects up by number) the newest;
    - "same generation": one table lists object 1 twice; pypdf keeps the first entry,
      pdfium the last;
    - "update": `1 1 obj` added by an incremental update (unsigned: for a `.p7m`)."""
    form = b"/AcroForm << /Fields [7 0 R] /SigFlags 3 >> " if signed else b""
    clean = b"<< /Type /Catalog /Pages 2 0 R " + form + b"/PieceInfo 8 0 R >>"
    shown = (
        b"<< /Type /Catalog /Pages 2 0 R " + form + b"/PageMode /UseAttachments /Names << "
        b"/EmbeddedFiles << /Names [(fattura.html) << /Type /Filespec /F (fattura.html) "
        b"/UF (fattura.html) /EF << /F 8 0 R >> >>] >> >> >>"
    )
    attached = zlib.compress(_HTML_ATTACHMENT)
    annots = b" /Annots [7 0 R]" if signed else b""
    rest = [
        (2, 0, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (
            3,
            0,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >>" + annots + b" >>",
        ),
        (4, 0, stream(PAGE_TEXT)),
        (5, 0, FONT.encode()),
        (8, 0, stream(attached, "/Filter /FlateDecode /Subtype /text#2Fhtml")),
    ]
    if signed:
        rest += [(6, 0, _SIGNATURE.encode()), (7, 0, _FIELD.encode())]
    second = 0 if how == "same generation" else 1
    catalogs = [(1, 0, clean)] if how == "update" else [(1, 0, clean), (1, second, shown)]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[tuple[int, int, int]] = []
    for number, generation, body in [*catalogs, *rest]:
        offsets.append((number, generation, len(out)))
        out += f"{number} {generation} obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number, generation, offset in sorted(offsets):
        out += f"{number} 1\n{offset:010d} {generation:05d} n \n".encode()
    out += f"trailer\n<< /Size 9 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    if how == "update":
        at = len(out)
        out += b"1 1 obj\n" + shown + b"\nendobj\n"
        update = len(out)
        out += (
            f"xref\n1 1\n{at:010d} 00001 n \ntrailer\n<< /Size 9 /Root 1 0 R /Prev {xref} >>\n"
            f"startxref\n{update}\n%%EOF\n"
        ).encode()
    return sign_placeholder(bytes(out)) if signed else bytes(out)


def signed_into_its_box(pdf: bytes, box: tuple[int, int, int, int] = (350, 50, 550, 110)) -> bytes:
    """`pdf` as a form with an empty signature box ("firma qui": a visible field with its
    own empty appearance), saved; then signed into that box in a second save (pyHanko),
    which replaces the box's appearance: the empty one stays listed, reached by nothing."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec("Medico", on_page=0, box=box))
    template = io.BytesIO()
    writer.write(template)
    again = IncrementalPdfFileWriter(io.BytesIO(template.getvalue()))
    meta = signers.PdfSignatureMetadata(field_name="Medico")
    return signers.sign_pdf(again, meta, signer=_pyhanko_signer("Dott. Bianchi")).getvalue()


def catalog_read_two_ways(*, signed: bool) -> bytes:
    """A catalog pypdf and pdfium read differently with no object listed twice: the
    cross-reference lists the clean catalog (reaching stream 8 through a made-up key),
    a second `1 0 obj` later in the file attaches stream 8 (`fattura.html`). The
    table's entries end with a bare line feed (19 bytes, not 20): pypdf reads the table
    and takes the clean catalog, pdfium finds the table broken, rebuilds it from the
    bytes and takes the last `1 0 obj`."""
    form = b"/AcroForm << /Fields [7 0 R] /SigFlags 3 >> " if signed else b""
    clean = b"<< /Type /Catalog /Pages 2 0 R " + form + b"/PieceInfo 8 0 R >>"
    shown = (
        b"<< /Type /Catalog /Pages 2 0 R " + form + b"/PageMode /UseAttachments /Names << "
        b"/EmbeddedFiles << /Names [(fattura.html) << /Type /Filespec /F (fattura.html) "
        b"/UF (fattura.html) /EF << /F 8 0 R >> >>] >> >> >>"
    )
    annots = b" /Annots [7 0 R]" if signed else b""
    objects = [
        (1, clean),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (
            3,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >>" + annots + b" >>",
        ),
        (4, stream(PAGE_TEXT)),
        (5, FONT.encode()),
        (8, stream(zlib.compress(_HTML_ATTACHMENT), "/Filter /FlateDecode /Subtype /text#2Fhtml")),
    ]
    if signed:
        objects += [(6, _SIGNATURE.encode()), (7, _FIELD.encode())]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number, body in [*objects, (1, shown)]:
        offsets.setdefault(number, len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 9\n0000000000 65535 f\n"
    for number in range(1, 9):
        out += (
            f"{offsets[number]:010d} 00000 n\n".encode()
            if number in offsets
            else b"0000000000 65535 f\n"
        )
    out += f"trailer\n<< /Size 9 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return sign_placeholder(bytes(out)) if signed else bytes(out)
