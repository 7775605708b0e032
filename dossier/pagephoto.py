"""A page of the form in a photo or a scan, found from its QR code: set upright, cut to
the page, and its signature box looked at for ink.

The QR code is printed at a known place on every page (`FormPDF.layout`: millimetres
from the page's top left corner), and zxing-cpp gives its four corners in the picture in
the code's own order (top left, top right, bottom right, bottom left as printed). So the
corners tell which way up the page is and where it lies: a similarity (a turn, one scale
and a shift), fitted to the four corners by least squares, maps the page's millimetres
into the picture's pixels. A similarity and not a full perspective: fitted on a code of
18 mm, a perspective would be extrapolated to a page sixteen times as tall and go wild
with the least error of a corner; the margins kept around the page cover a photo taken
a little askew.

- `upright`: the page turned upright and cut out with generous margins (the table
  around it mostly goes; nothing of the page does). When the corners do not agree with a
  square (a code seen very askew), only a quarter turn is made.
- `ink`: whether the signature box holds a signature. The box is mapped into the picture
  and searched for near where it should be (its four lines, within a few millimetres),
  so a photo taken askew still finds it; inside it, what is darker than its
  surroundings (a threshold against the local mean: shade and light do not matter) and
  is not a long straight line (the box's own border) is ink. The box of our own
  rendering holds none.

- `page_in_view`: whether the picture shows the page and not just its code: print
  where our own rendering of the form prints (`Layout.printed`, cells of the page).

Pure Pillow, run in the bounded process that reads the codes (`dossier.pagecode`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops, ImageFilter, ImageOps

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x, y, width, height (mm)

A4 = (210.0, 297.0)
QR_DEFAULT = (174.0, 271.0, 18.0)  # where `FormPDF` prints it on A4 (left, top, side)
MARGIN = 15.0  # mm kept around the page when it is cut out of a photo
MAX_DENSITY = 8.0  # px per mm of the page cut out (203 dpi): never more than the photo
WORK_DENSITY = (3.0, 8.0)  # px per mm the signature box is looked at, at least and at most
MAX_RESIDUAL = 0.06  # of the code's side: corners further from a square, only a quarter turn
SEARCH = 9.0  # mm around the box where its lines are looked for
LINE_RUN = 4.0  # mm: dark runs this long, straight, are lines (the box), not a signature
DARKER = 35  # grey levels under the local mean that count as ink
INK_SHARE = 0.005  # of the box's inside: more ink than this is a signature
INSET = 1.6  # mm inside the box's lines where ink is counted (its lines found)
INSET_GUESSED = 4.0  # mm, when the lines were not found and the box is where it should be


@dataclass(frozen=True)
class Layout:
    """Where the QR code and the signature boxes are on the form's pages (mm)."""

    page: tuple[float, float] = A4
    qr: tuple[float, float, float] = QR_DEFAULT
    signatures: tuple[tuple[int, float, float, float, float], ...] = ()
    label: str = ""
    printed: tuple[str, ...] = ()  # per page, where the form prints (`print_cells`)

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Layout:
        """From `FormPDF.layout` as stored with the dossier (nothing stored: where the
        code is on every form, and no box known)."""
        if not data:
            return cls()
        page = data.get("page") or A4
        qr = data.get("qr") or QR_DEFAULT
        return cls(
            page=(float(page[0]), float(page[1])),
            qr=(float(qr[0]), float(qr[1]), float(qr[2])),
            signatures=tuple(
                (int(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4]))
                for b in data.get("signatures") or ()
            ),
            label=str(data.get("label") or ""),
            printed=tuple(str(cells) for cells in data.get("print") or ()),
        )

    def boxes(self, page: int) -> list[Box]:
        return [(x, y, w, h) for p, x, y, w, h in self.signatures if p == page]

    def qr_corners(self) -> list[Point]:
        """The code's corners on the page, in zxing-cpp's order."""
        x, y, side = self.qr
        return [(x, y), (x + side, y), (x + side, y + side), (x, y + side)]


@dataclass(frozen=True)
class Placement:
    """Page millimetres to picture pixels: (x, y) -> (a x - b y + c, b x + a y + d)."""

    a: float
    b: float
    c: float
    d: float
    residual: float = 0.0  # the corners' distance from the fit, in the code's sides

    def __call__(self, x: float, y: float) -> Point:
        return (self.a * x - self.b * y + self.c, self.b * x + self.a * y + self.d)

    @property
    def density(self) -> float:
        """Pixels per millimetre of the page in the picture."""
        return math.hypot(self.a, self.b)

    @property
    def quarter_turns(self) -> int:
        """How the page lies, in quarter turns clockwise on screen from upright: 0 upright,
        1 its top to the right, 2 upside down, 3 its top to the left."""
        return round(math.degrees(math.atan2(self.b, self.a)) / 90) % 4

    def scaled(self, sx: float, sy: float) -> Placement:
        """The same page in the picture resized by (sx, sy) (nearly equal: a reduced
        decoding of the same photo)."""
        s = (sx + sy) / 2
        return Placement(self.a * s, self.b * s, self.c * sx, self.d * sy, self.residual)

    def affine(self, density: float, left: float, top: float) -> tuple[float, ...]:
        """Pillow's AFFINE data for an output of `density` px/mm whose (0, 0) is the
        page's point (left, top)."""
        u0, v0 = self(left, top)
        a, b = self.a / density, self.b / density
        return (a, -b, u0, b, a, v0)


def place(corners: Sequence[Point], layout: Layout) -> Placement:
    """The similarity that takes the code's corners on the page to `corners` (pixels),
    by least squares."""
    page = layout.qr_corners()
    n = len(page)
    mx = sum(p[0] for p in page) / n
    my = sum(p[1] for p in page) / n
    mu = sum(c[0] for c in corners) / n
    mv = sum(c[1] for c in corners) / n
    num_a = num_b = den = 0.0
    for (x, y), (u, v) in zip(page, corners, strict=True):
        x, y, u, v = x - mx, y - my, u - mu, v - mv
        num_a += x * u + y * v
        num_b += x * v - y * u
        den += x * x + y * y
    a, b = num_a / den, num_b / den
    c, d = mu - a * mx + b * my, mv - b * mx - a * my
    fit = Placement(a, b, c, d)
    side = layout.qr[2] * fit.density
    error = max(math.dist(fit(*p), q) for p, q in zip(page, corners, strict=True))
    return Placement(a, b, c, d, error / side if side else math.inf)


# --- upright and cut out -----------------------------------------------------------------


def quarter_turn(image: Image.Image, turns: int) -> Image.Image:
    """Undo `Placement.quarter_turns`: the page's top back up."""
    undo = {
        1: Image.Transpose.ROTATE_90,
        2: Image.Transpose.ROTATE_180,
        3: Image.Transpose.ROTATE_270,
    }
    return image.transpose(undo[turns]) if turns % 4 else image


def upright(image: Image.Image, placement: Placement, layout: Layout) -> Image.Image:
    """The page upright, cut out of the photo with `MARGIN` mm around it (white where the
    photo ends), at the photo's own density (at most `MAX_DENSITY`). When the code was
    seen too askew to trust, the whole photo with a quarter turn only."""
    if placement.residual > MAX_RESIDUAL:
        return quarter_turn(image, placement.quarter_turns)
    density = min(placement.density, MAX_DENSITY)
    width, height = layout.page
    size = (round((width + 2 * MARGIN) * density), round((height + 2 * MARGIN) * density))
    return image.transform(
        size,
        Image.Transform.AFFINE,
        placement.affine(density, -MARGIN, -MARGIN),
        resample=Image.Resampling.BILINEAR,
        fillcolor="white",
    )


# --- ink in the signature box --------------------------------------------------------------


def _dark(gray: Image.Image, density: float) -> Image.Image:
    """255 where the picture is darker than around it by `DARKER` (an adaptive threshold:
    shade, light and the colour of the paper do not matter), else 0."""
    mean = gray.filter(ImageFilter.BoxBlur(max(2, round(3 * density))))
    return ImageChops.subtract(mean, gray).point(lambda v: 255 if v > DARKER else 0)


def _lines(mask: Image.Image, run: int) -> tuple[Image.Image, Image.Image]:
    """The long straight runs of `mask`: horizontal, vertical (255 there)."""
    w, h = mask.size
    wide = mask.resize((max(1, w // run), h), Image.Resampling.BOX)
    tall = mask.resize((w, max(1, h // run)), Image.Resampling.BOX)
    keep = lambda v: 255 if v >= 150 else 0  # noqa: E731
    across = wide.point(keep).resize((w, h), Image.Resampling.NEAREST)
    down = tall.point(keep).resize((w, h), Image.Resampling.NEAREST)
    return across, down


def _profile(image: Image.Image, horizontal: bool) -> list[float]:
    """Mean of each row (horizontal) or column, 0..1."""
    w, h = image.size
    size = (1, h) if horizontal else (w, 1)
    return [v / 255 for v in image.resize(size, Image.Resampling.BOX).tobytes()]


def _pair(profile: list[float], first: float, gap: float, reach: float) -> tuple[int, int] | None:
    """The two lines of a box side by side in `profile` (a border about `first`, the other
    about `gap` further), each within `reach`; None when they are not there."""
    smooth = [max(profile[max(0, i - 2) : i + 3]) for i in range(len(profile))]
    best: tuple[float, int, int] | None = None
    lo, hi = max(0, round(first - reach)), min(len(smooth) - 1, round(first + reach))
    tolerance = max(2, round(gap * 0.15))
    for i in range(lo, hi + 1):
        if smooth[i] < 0.3:
            continue
        for j in range(round(i + gap - tolerance), round(i + gap + tolerance) + 1):
            if 0 <= j < len(smooth) and smooth[j] >= 0.3:
                score = smooth[i] + smooth[j]
                if best is None or score > best[0]:
                    best = (score, i, j)
    return (best[1], best[2]) if best else None


def ink_share(gray: Image.Image, placement: Placement, box: Box) -> float | None:
    """The share of the signature box's inside that is ink (0 for our own blank box);
    None when the box is not in the picture."""
    x, y, w, h = box
    corners = [placement(x + dx, y + dy) for dx in (0, w) for dy in (0, h)]
    if not all(0 <= u < gray.width and 0 <= v < gray.height for u, v in corners):
        return None
    density = min(max(placement.density, WORK_DENSITY[0]), WORK_DENSITY[1])
    size = (round((w + 2 * SEARCH) * density), round((h + 2 * SEARCH) * density))
    region = gray.transform(
        size,
        Image.Transform.AFFINE,
        placement.affine(density, x - SEARCH, y - SEARCH),
        resample=Image.Resampling.BILINEAR,
        fillcolor=255,
    )
    dark = _dark(region, density)
    across, down = _lines(dark, max(3, round(LINE_RUN * density)))
    top = left = SEARCH * density
    right, bottom = left + w * density, top + h * density
    inner = round(INSET * density)
    rows = _pair(
        _profile(across.crop((round(left), 0, round(right), size[1])), horizontal=True),
        top,
        h * density,
        SEARCH * density * 0.8,
    )
    cols = _pair(
        _profile(down.crop((0, round(top), size[0], round(bottom))), horizontal=False),
        left,
        w * density,
        SEARCH * density * 0.8,
    )
    if rows is None or cols is None:  # the lines not found: where the box should be
        inner = round(INSET_GUESSED * density)
        found = (round(left), round(top), round(right), round(bottom))
    else:
        found = (cols[0], rows[0], cols[1], rows[1])
    inside = (found[0] + inner, found[1] + inner, found[2] - inner, found[3] - inner)
    if inside[2] <= inside[0] or inside[3] <= inside[1]:
        return None
    straight = ImageChops.lighter(across, down)
    ink = ImageChops.subtract(dark, straight).crop(inside)
    return sum(ink.histogram()[128:]) / (ink.width * ink.height)


def has_ink(gray: Image.Image, placement: Placement, boxes: Sequence[Box]) -> bool | None:
    """Whether every signature box of the page holds ink; None for a page without a box.
    A box outside the picture holds none that we can see."""
    if not boxes:
        return None
    for box in boxes:
        share = ink_share(gray, placement, box)
        if share is None or share < INK_SHARE:
            return False
    return True


# --- the page around the code --------------------------------------------------------------

IN_VIEW = 0.7  # of the page's area the picture must show around its code (margins may go)
PRINT_DENSITY = 2.0  # px per mm the page's print is looked at
PRINT_SHARE = 0.01  # of the page outside its code: less print, no page (the form's: 5-11%)
_GRID = 16  # points a side, where the page is sampled
# The page is cut in cells (across, down); a cell of the form with print on it must show
# print in the picture too, for most such cells: a blank sheet with the code glued on
# and a scribble has print in a handful of them.
PRINT_GRID = (14, 20)
FORM_CELL = 0.03  # of a cell printed on our rendering: the form prints there
SEEN_CELL = 0.008  # of a cell dark in the picture: print seen there
PRINT_MATCH = 0.75  # of the form's printed cells seen printed in the picture, at least
PRINT_CUTOFF = 0.5  # % of the page's darkest and lightest pixels left out of its range


def page_in_view(gray: Image.Image, placement: Placement, layout: Layout, page: int = 0) -> bool:
    """Whether the picture shows the page around its code, not just the code: most of
    the page's area inside the picture (`IN_VIEW`), and print on it outside the code
    where the form prints (`PRINT_MATCH` of the cells of `layout.printed` for `page`;
    without them, `PRINT_SHARE` of the page): a close-up of the QR alone, or the code cut
    out and put on a blank sheet, with a scribble in the box, has none. A code seen too
    askew to place the page counts as in view (its ink is judged without a page either
    way)."""
    if placement.residual > MAX_RESIDUAL:
        return True
    width, height = layout.page
    points = [
        placement((i + 0.5) * width / _GRID, (j + 0.5) * height / _GRID)
        for i in range(_GRID)
        for j in range(_GRID)
    ]
    inside = sum(0 <= u < gray.width and 0 <= v < gray.height for u, v in points)
    if inside < IN_VIEW * len(points):
        return False
    dark = _page_dark(gray, placement, layout)
    if 0 < page <= len(layout.printed) and layout.printed[page - 1].count("1"):
        form = layout.printed[page - 1]
        seen = print_cells(dark, SEEN_CELL)
        matched = sum(f == s == "1" for f, s in zip(form, seen, strict=False))
        return matched >= PRINT_MATCH * form.count("1")
    return dark.histogram()[255] / (dark.width * dark.height) >= PRINT_SHARE


def _page_dark(gray: Image.Image, placement: Placement, layout: Layout) -> Image.Image:
    """The page's print (255 where darker than around it), its code left out, looked at
    `PRINT_DENSITY`; what lies outside the picture is white."""
    density = min(PRINT_DENSITY, placement.density)
    width, height = layout.page
    size = (max(1, round(width * density)), max(1, round(height * density)))
    page = gray.transform(
        size,
        Image.Transform.AFFINE,
        placement.affine(density, 0.0, 0.0),
        resample=Image.Resampling.BILINEAR,
        fillcolor=255,
    )
    # the page's own black and white stretched to the full range: a photo in dim light
    # (grey paper, grey print) shows its print as a bright one does
    dark = _dark(ImageOps.autocontrast(page, cutoff=PRINT_CUTOFF), density)
    x, y, side = layout.qr
    left, top, right, bottom = (
        round(v * density) for v in (x - 2, y - 2, x + side + 2, y + side + 2)
    )
    dark.paste(0, (left, top, right, bottom))
    return dark


def print_share(gray: Image.Image, placement: Placement, layout: Layout) -> float:
    """The share of the page, its code left out, that is printed (`_page_dark`)."""
    dark = _page_dark(gray, placement, layout)
    return dark.histogram()[255] / (dark.width * dark.height)


def print_cells(dark: Image.Image, share: float) -> str:
    """Which cells of `PRINT_GRID` over the page's print (`_page_dark`) hold at least
    `share` of print: "1" or "0" each, across then down."""
    across, down = PRINT_GRID
    means = dark.resize(PRINT_GRID, Image.Resampling.BOX).tobytes()
    return "".join("1" if v / 255 >= share else "0" for v in means[: across * down])


def form_print(rendering: Image.Image, layout: Layout) -> str:
    """`print_cells` of one page of our own form, rendered upright and whole (grey)."""
    density = rendering.width / layout.page[0]
    placement = Placement(density, 0.0, 0.0, 0.0)
    return print_cells(_page_dark(rendering, placement, layout), FORM_CELL)
