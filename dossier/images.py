"""Photos: the check of an uploaded image and its clean copy, and the decoding of an
accepted one (`open_image`) for the pages and the assembly.

Ceilings on pixels are read from the header, before anything is decoded; a JPEG is
decoded at reduced size where the full size is not needed; what we keep is the picture
re-encoded as a JPEG (upright, no metadata, nothing after the picture).
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate
from typing import cast

import pillow_heif
from PIL import Image, ImageOps, ImageStat, JpegImagePlugin

from common.logs import quiet

from .refusals import (
    MSG_BLANK,
    MSG_BOMB,
    MSG_NOT_A_DOCUMENT,
    MSG_TOO_SMALL,
    MSG_TRUNCATED,
    MSG_UNREADABLE,
    FileRefused,
    logged,
)
from .sniffing import sniff

pillow_heif.register_heif_opener()

quiet("PIL", level=logging.INFO)  # its debug lines print EXIF values: personal data

MIN_IMAGE_SIDE = 400  # px, the shorter side; smaller cannot be read

# The decompression-bomb guard: Pillow warns over this many pixels and fails over twice
# as many; `_bomb_guard` turns the warning into an error too. Checked when the header is
# read, before any pixel is decoded.
MAX_IMAGE_PIXELS = 80_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Our own ceilings, per kind, so that the worst image we take costs at most ~300 MB to
# open. A baseline JPEG is decoded at 1/2, 1/4 or 1/8 scale (Image.draft), so even a
# 108-megapixel phone photo is cheap; a progressive JPEG keeps every coefficient of the
# full picture in memory, and PNG, WebP and HEIC have no reduced decoding at all.
MAX_PIXELS = {  # measured: the worst of each costs under 300 MB and 2 s to check
    "jpeg": 80_000_000,  # decoded at 1/2 or 1/4 scale
    "jpeg_progressive": 50_000_000,  # all coefficients in memory: 3-4 bytes a pixel
    "jpeg_progressive_444": 40_000_000,  # no chroma subsampling: 6 bytes a pixel
    "png": 30_000_000,  # ~9 bytes a pixel to decode; an A4 page at 500 dpi is 24 Mpx
    "heic": 32_000_000,  # ~7 bytes a pixel; phones take 12 and 24 Mpx by default
    "webp": 16_000_000,  # ~16 bytes a pixel
}
# The copy we keep of a photo: re-encoded (so nothing rides along after the picture),
# upright, no metadata, at most this many pixels on the longer side.
CLEAN_SIDE = 4000
CLEAN_QUALITY = 90
DRAFT_TOLERANCE = 0.75  # a JPEG may be decoded down to this share of the side wanted


BLANK_STDDEV = 6.0  # grayscale standard deviation on a thumbnail; below it, nearly uniform
# ...unless some ink stands out: a page with one signature line is nearly uniform too
_INK_CONTRAST = 48  # gray levels away from the median
_INK_SHARE = 1 / 5000  # of the thumbnail's pixels
_THUMBNAIL = (512, 512)
_ORIENTATION = 0x0112  # the EXIF tag


# Pillow format names per kind: a file sniffed as one kind is opened by that decoder only.
PIL_FORMATS = {
    "jpeg": ["JPEG", "MPO"],
    "png": ["PNG"],
    "webp": ["WEBP"],
    "heic": ["HEIF"],
}


@contextmanager
def _bomb_guard() -> Iterator[None]:
    """Pillow's decompression-bomb warning becomes an error; other warnings are quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _open(data: bytes, kind: str) -> Image.Image:
    """Open the header only: the bomb guard and our ceilings run here, before any pixel
    is decoded."""
    try:
        img = Image.open(io.BytesIO(data), formats=PIL_FORMATS[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileRefused(MSG_BOMB) from None
    except Exception:  # the header itself cannot be read
        raise FileRefused(MSG_UNREADABLE) from None
    # Again with our own limit: the warnings filter is process-wide (another thread may
    # reset it) and Image.MAX_IMAGE_PIXELS is anybody's to change.
    ceiling = MAX_PIXELS.get(kind, MAX_IMAGE_PIXELS)
    if kind == "jpeg" and (img.info.get("progressive") or img.info.get("progression")):
        ceiling = MAX_PIXELS["jpeg_progressive"]
        if JpegImagePlugin.get_sampling(img) not in (1, 2):  # 4:4:4: twice the colour
            ceiling = MAX_PIXELS["jpeg_progressive_444"]
    if img.width * img.height > min(ceiling, MAX_IMAGE_PIXELS):
        img.close()
        raise FileRefused(MSG_BOMB)
    return img


def _orientation(img: Image.Image) -> int | None:
    """The EXIF orientation of a loaded image; a broken EXIF block counts as none."""
    try:
        value = img.getexif().get(_ORIENTATION)
    except Exception:
        return None
    return value if isinstance(value, int) else None


def _on_white(img: Image.Image) -> Image.Image:
    """RGB; transparent parts become white paper, not black."""
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # pasted on white through its own alpha: one pass, the same pixels as compositing
        # on an opaque white RGBA page and converting (three passes, two copies)
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        page = Image.new("RGB", rgba.size, (255, 255, 255))
        page.paste(rgba, (0, 0), rgba)
        return page
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        # 16-bit and float grays: stretch their own range to 8 bits
        img = img.convert("F")
        low, high = cast(tuple[float, float], img.getextrema())  # one band: (min, max)
        scale = 255 / (high - low) if high > low else 0.0
        img = img.point(lambda v: (v - low) * scale).convert("L")
    return img.convert("RGB")


def _decoded(img: Image.Image, kind: str, max_side: int) -> tuple[Image.Image, int | None]:
    """The pixels and the EXIF orientation. Decoded at a reduced size where the format
    allows it (JPEG: 1/2, 1/4, 1/8 while the longer side keeps at least `max_side`),
    then brought down to `max_side` (the full-size pixels are freed at once). Every byte
    is still read, so truncation shows."""
    width, height = img.size
    if kind == "jpeg" and max(width, height) > max_side:
        # a JPEG of 6000-8000 px decodes at 1/2 (3000-4000 px) rather than in full: the
        # full-size pixels of a 50 Mpx photo are 150 MB more
        scale = max_side * DRAFT_TOLERANCE / max(width, height)
        img.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
    try:
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileRefused(MSG_BOMB) from None
    except MemoryError:
        raise
    except Exception:
        raise FileRefused(MSG_TRUNCATED) from None
    orientation = _orientation(img)  # PNG keeps its EXIF after the pixels
    factor = math.ceil(max(img.size) / max_side)
    if factor > 1:
        small = img.reduce(factor)
        img.close()  # the full-size pixels go now, not when the file is closed
        return small, orientation
    return img, orientation


def _upright(pixels: Image.Image, orientation: int | None) -> Image.Image:
    if orientation in (None, 1):
        return pixels
    pixels.getexif()[_ORIENTATION] = orientation
    return ImageOps.exif_transpose(pixels)


def check_image(data: bytes, kind: str) -> tuple[int, int, bytes]:
    """The upright width and height of a whole, readable, not blank image, and its clean
    copy (an upright RGB JPEG, no metadata, no bytes after the picture)."""
    with _bomb_guard(), _open(data, kind) as img:
        width, height = img.size  # as stored; turned below
        if min(width, height) < MIN_IMAGE_SIDE:  # turning does not change the shorter side
            raise FileRefused(MSG_TOO_SMALL, width=width, height=height)
        pixels, orientation = _decoded(img, kind, CLEAN_SIDE)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        page = _on_white(_upright(pixels, orientation))
        del pixels
    if _looks_blank(page):
        raise FileRefused(MSG_BLANK)
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=CLEAN_QUALITY, subsampling="4:2:0")
    return width, height, out.getvalue()


def _looks_blank(img: Image.Image) -> bool:
    """Nearly uniform (a covered lens, an empty page), with no ink standing out."""
    gray = img.convert("L")
    gray.thumbnail(_THUMBNAIL)
    if ImageStat.Stat(gray).stddev[0] >= BLANK_STDDEV:
        return False
    histogram = gray.histogram()
    total = sum(histogram)
    median = next(level for level, seen in enumerate(accumulate(histogram)) if seen * 2 >= total)
    ink = sum(c for level, c in enumerate(histogram) if abs(level - median) > _INK_CONTRAST)
    return ink < total * _INK_SHARE


def open_image(data: bytes, max_side: int | None = None) -> Image.Image:
    """Decode an image already accepted by `inspect`, upright and in RGB.

    EXIF orientation is applied (ImageOps.exif_transpose), transparency becomes white,
    the decompression-bomb guard and the ceilings per kind are on; with `max_side`, the
    picture is decoded at a reduced size where possible and brought down to it. Raises
    FileRefused, like `inspect`, if the bytes are not an image we take.
    """
    kind = sniff(data)
    if kind not in PIL_FORMATS:
        raise logged(FileRefused(MSG_NOT_A_DOCUMENT), kind, len(data))
    try:
        with _bomb_guard(), _open(data, kind) as img:
            pixels, orientation = _decoded(img, kind, max_side or max(img.size))
            return _on_white(_upright(pixels, orientation))
    except FileRefused as refused:
        raise logged(refused, kind, len(data)) from None
    except Exception as error:
        raise logged(FileRefused(MSG_UNREADABLE), kind, len(data), error) from None
