"""A synthetic stand-in for the course's cat / non-cat pictures, in the course's HDF5 layout.

The assignment trains a fully connected network on 64x64 RGB pictures labelled 1 (cat)
or 0 (non-cat). We ship no photographs: the pictures are drawn here, from one fixed
seed, so the data sets are the same bytes on every machine.

- a **cat** is a furry head (an ellipse, in a cat's colours, sometimes tabby-striped)
  with two pointed triangular ears, two eyes and a nose, often with a body below it;
- a **non-cat** is one of: a ball (a round blob, no ears), a bear-like head (round
  ears), a house (a box under one triangular roof), a landscape (sky, ground, sun,
  pointed trees) or a few scattered shapes.

Position, size, colours, lighting and the blotchy background vary, and some
non-cats look a lot like cats (bears in fur colours, orange balls), so a network on
raw pixels learns the task well but not perfectly. Only
integer draws and arithmetic are used (no transcendental functions), so the pictures
do not depend on the platform's maths library.

Files, exactly as the course's (``load_data`` in the student helper reads them):

- ``train_catvnoncat.h5``: ``train_set_x`` uint8 (209, 64, 64, 3), ``train_set_y``
  int64 (209,), ``list_classes`` bytes [b'non-cat', b'cat'];
- ``test_catvnoncat.h5``: ``test_set_x`` uint8 (50, 64, 64, 3), ``test_set_y``
  int64 (50,), ``list_classes``.

Run ``python -m grader.assignments.dnn_application.dataset OUT_DIR`` to write both.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import h5py
import numpy as np

SEED = 20240917
SIZE = 64
CLASSES = np.array([b"non-cat", b"cat"], dtype="S7")
# (split, number of pictures, number of cats): the course's sizes, but half of them cats
# (the course has 72 of 209 and 33 of 50): with a third of cats in the training set the
# 4-layer model of the notebook sometimes starts by driving every unit of a layer to
# zero and then predicts "non-cat" for everything; balanced classes train every time
SPLITS = (("train", 209, 104), ("test", 50, 25))
FILE_NAMES = {"train": "train_catvnoncat.h5", "test": "test_catvnoncat.h5"}

_Y, _X = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5  # pixel centres

# fur colours (RGB) of cats; others draw their colours anywhere
_FUR = np.array(
    [
        (214, 128, 52),
        (226, 196, 150),
        (150, 100, 60),
        (190, 150, 100),
        (160, 130, 105),
        (230, 160, 80),
    ],
    dtype=np.float64,
)
_ODD_FUR = np.array([(60, 55, 55), (235, 232, 225), (140, 140, 145)], dtype=np.float64)
_EYES = np.array([(120, 190, 60), (220, 190, 40), (90, 150, 220), (200, 140, 40)], dtype=np.float64)


# --- drawing primitives (masks are float arrays in [0, 1]) -----------------------------


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A float in [low, high] from an integer draw (exact on every platform)."""
    return low + (high - low) * int(rng.integers(0, 1001)) / 1000.0


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    return (((_X - cx) / rx) ** 2 + ((_Y - cy) / ry) ** 2 <= 1.0).astype(np.float64)


def _triangle(p1, p2, p3) -> np.ndarray:
    """Pixels inside the triangle p1 p2 p3 (sign tests of the three edges)."""

    def side(a, b):
        return (b[0] - a[0]) * (_Y - a[1]) - (b[1] - a[1]) * (_X - a[0])

    s1, s2, s3 = side(p1, p2), side(p2, p3), side(p3, p1)
    inside = ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))
    return inside.astype(np.float64)


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return ((_X >= x0) & (_X <= x1) & (_Y >= y0) & (_Y <= y1)).astype(np.float64)


def _smooth_field(rng: np.random.Generator, cells: int, amplitude: float) -> np.ndarray:
    """Low-frequency noise: a (cells+1)^2 grid of integer draws, bilinearly upsampled."""
    grid = rng.integers(-100, 101, size=(cells + 1, cells + 1)).astype(np.float64) / 100.0
    position = (np.arange(SIZE) + 0.5) * cells / SIZE
    index = np.minimum(position.astype(int), cells - 1)
    frac = position - index
    rows = grid[index] * (1 - frac)[:, None] + grid[index + 1] * frac[:, None]
    field = rows[:, index] * (1 - frac)[None, :] + rows[:, index + 1] * frac[None, :]
    return field * amplitude


def _stripes(period: float, phase: float, slope: float) -> np.ndarray:
    """A triangle wave in [0, 1] across slanted lines (tabby fur, ball seams)."""
    t = (_Y + slope * _X + phase) / period
    return np.abs(2.0 * (t - np.floor(t)) - 1.0)


def _jitter(rng: np.random.Generator, colour: np.ndarray, spread: int) -> np.ndarray:
    return colour + rng.integers(-spread, spread + 1, size=3)


def _paint(image: np.ndarray, mask: np.ndarray, colour) -> None:
    colour = np.asarray(colour, dtype=np.float64)
    if colour.ndim == 1:
        colour = colour[None, None, :]
    image *= 1.0 - mask[:, :, None]
    image += mask[:, :, None] * colour


def _any_colour(rng: np.random.Generator) -> np.ndarray:
    """A colour of a thing that is not a cat: mostly cool (blue, green, purple)."""
    red = int(rng.integers(20, 160))
    return np.array(
        [red, int(rng.integers(40, 230)), int(rng.integers(90, 240))], dtype=np.float64
    )[rng.permutation([0, 1, 2]) if not rng.integers(0, 4) else [0, 1, 2]]


def _muted(rng: np.random.Generator) -> np.ndarray:
    """A greyish colour: a grey level with a small tint (walls, floors, sky)."""
    return int(rng.integers(30, 140)) + rng.integers(-25, 26, size=3).astype(np.float64)


def _background(rng: np.random.Generator) -> np.ndarray:
    """A vertical gradient between two muted colours, with smooth blotches."""
    top, bottom = _muted(rng), _muted(rng)
    weight = (_Y / SIZE)[:, :, None]
    image = top * (1 - weight) + bottom * weight
    return image + _smooth_field(rng, 4, 20.0)[:, :, None]


# --- the pictures --------------------------------------------------------------------------


def _head(
    rng: np.random.Generator,
    image: np.ndarray,
    fur: np.ndarray,
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    tabby: bool,
) -> None:
    """A furry ellipse, with stripes when tabby, and two eyes and a nose."""
    head = _ellipse(cx, cy, rx, ry)
    shade = fur[None, None, :] * (1.0 + _smooth_field(rng, 3, 0.12)[:, :, None])
    if tabby:
        stripes = _stripes(_uniform(rng, 4.0, 7.0), _uniform(rng, 0, 10), _uniform(rng, -0.3, 0.3))
        shade = shade * (1.0 - 0.35 * (stripes > 0.55))[:, :, None]
    _paint(image, head, shade)
    eye = _jitter(rng, _EYES[rng.integers(0, len(_EYES))], 20)
    for side in (-1, 1):
        ex, ey = cx + side * 0.4 * rx, cy - 0.12 * ry
        _paint(image, _ellipse(ex, ey, 0.2 * rx, 0.15 * ry), eye)
        _paint(image, _ellipse(ex, ey, 0.06 * rx, 0.14 * ry), (15, 15, 15))
    nose_y = cy + 0.22 * ry
    _paint(
        image,
        _triangle((cx - 0.12 * rx, nose_y), (cx + 0.12 * rx, nose_y), (cx, nose_y + 0.12 * ry)),
        (220, 120, 130),
    )


def cat(rng: np.random.Generator) -> np.ndarray:
    image = _background(rng)
    palette = _ODD_FUR if rng.integers(0, 12) == 0 else _FUR  # a few black, white, grey cats
    fur = _jitter(rng, palette[rng.integers(0, len(palette))], 18)
    rx = _uniform(rng, 13.0, 18.0)
    ry = rx * _uniform(rng, 0.8, 0.95)
    cx, cy = _uniform(rng, 29.0, 35.0), _uniform(rng, 31.0, 37.0)
    if rng.integers(0, 3):  # a body below the head, most of the time
        _paint(
            image, _ellipse(cx + _uniform(rng, -4, 4), cy + 1.6 * ry, 1.3 * rx, 1.0 * ry), fur * 0.9
        )
    # two pointed ears standing on the top of the head, leaning outwards a little
    height, half = rx * _uniform(rng, 0.8, 1.15), rx * _uniform(rng, 0.28, 0.38)
    lean = rx * _uniform(rng, 0.0, 0.25)
    inner = np.array((230, 150, 160), dtype=np.float64)
    for side in (-1, 1):
        bx, by = cx + side * 0.55 * rx, cy - 0.62 * ry
        apex = (bx + side * lean, by - height)
        _paint(image, _triangle((bx - half, by + 2), (bx + half, by + 2), apex), fur)
        _paint(
            image,
            _triangle(
                (bx - 0.5 * half, by + 1),
                (bx + 0.5 * half, by + 1),
                (apex[0], apex[1] + 0.45 * height),
            ),
            inner,
        )
    _head(rng, image, fur, cx, cy, rx, ry, tabby=bool(rng.integers(0, 2)))
    return image


def _ball(rng, image):
    r = _uniform(rng, 9.0, 20.0)
    cx, cy = _uniform(rng, 18.0, 46.0), _uniform(rng, 20.0, 44.0)
    colour = _any_colour(rng)
    shade = colour[None, None, :] * (1.0 + _smooth_field(rng, 3, 0.12)[:, :, None])
    if rng.integers(0, 2):
        seams = _stripes(_uniform(rng, 6.0, 12.0), _uniform(rng, 0, 10), _uniform(rng, -1, 1))
        shade = shade * (1.0 - 0.5 * (seams > 0.8))[:, :, None]
    _paint(image, _ellipse(cx, cy, r, r * _uniform(rng, 0.85, 1.0)), shade)


def _bear(rng, image):
    """A round head with round ears: the closest thing to a cat that is not one."""
    fur = _jitter(rng, _FUR[rng.integers(0, len(_FUR))], 30)
    rx = _uniform(rng, 12.0, 18.0)
    ry = rx * _uniform(rng, 0.85, 1.0)
    cx, cy = _uniform(rng, 26.0, 38.0), _uniform(rng, 28.0, 40.0)
    for side in (-1, 1):
        _paint(image, _ellipse(cx + side * 0.7 * rx, cy - 0.75 * ry, 0.35 * rx, 0.35 * rx), fur)
    _paint(image, _ellipse(cx, cy, rx, ry), fur)
    for side in (-1, 1):
        _paint(
            image, _ellipse(cx + side * 0.38 * rx, cy - 0.1 * ry, 0.1 * rx, 0.1 * rx), (20, 20, 20)
        )
    _paint(image, _ellipse(cx, cy + 0.3 * ry, 0.35 * rx, 0.25 * ry), fur * 1.2)


def _house(rng, image):
    w, h = _uniform(rng, 20.0, 40.0), _uniform(rng, 14.0, 26.0)
    x0, y1 = _uniform(rng, 4.0, 60.0 - w), _uniform(rng, 44.0, 62.0)
    wall, roof = _any_colour(rng), _any_colour(rng)
    _paint(image, _box(x0, y1 - h, x0 + w, y1), wall)
    _paint(
        image,
        _triangle(
            (x0 - 3, y1 - h), (x0 + w + 3, y1 - h), (x0 + w / 2, y1 - h - _uniform(rng, 8.0, 18.0))
        ),
        roof,
    )
    _paint(image, _box(x0 + w * 0.4, y1 - h * 0.55, x0 + w * 0.6, y1), wall * 0.5)


def _landscape(rng, image):
    horizon = _uniform(rng, 28.0, 46.0)
    ground = _any_colour(rng)
    _paint(
        image,
        (_Y >= horizon).astype(np.float64),
        ground[None, None, :] * (1.0 + _smooth_field(rng, 6, 0.15)[:, :, None]),
    )
    _paint(
        image,
        _ellipse(_uniform(rng, 6, 58), _uniform(rng, 5, horizon - 8), 5.0, 5.0),
        (240, 220, 90),
    )
    tree = _jitter(rng, np.array((50.0, 120.0, 50.0)), 30)
    for _ in range(int(rng.integers(1, 5))):
        x, size = _uniform(rng, 6.0, 58.0), _uniform(rng, 6.0, 16.0)
        base = horizon + _uniform(rng, 0, 8)
        _paint(image, _triangle((x - size / 2, base), (x + size / 2, base), (x, base - size)), tree)


def _shapes(rng, image):
    for _ in range(int(rng.integers(2, 6))):
        cx, cy, r = _uniform(rng, 6, 58), _uniform(rng, 6, 58), _uniform(rng, 3.0, 10.0)
        kind = int(rng.integers(0, 3))
        if kind == 0:
            mask = _ellipse(cx, cy, r, r * _uniform(rng, 0.5, 1.0))
        elif kind == 1:
            mask = _box(cx - r, cy - r, cx + r, cy + r * _uniform(rng, 0.3, 1.0))
        else:
            mask = _triangle(
                (cx - r, cy + r), (cx + r, cy + r), (cx + _uniform(rng, -r, r), cy - r)
            )
        _paint(image, mask, _any_colour(rng))


_OTHERS = (_ball, _bear, _house, _landscape, _shapes)


def non_cat(rng: np.random.Generator) -> np.ndarray:
    image = _background(rng)
    _OTHERS[int(rng.integers(0, len(_OTHERS)))](rng, image)
    return image


def _finish(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Lighting and contrast, then rounding to uint8.

    No independent noise per pixel: it would change little for the network and would
    keep the files from compressing (per-pixel noise of +-2 levels makes them twice as
    large); the smooth blotches of the backgrounds, fur and grounds are the noise."""
    gain, offset = _uniform(rng, 0.85, 1.1), _uniform(rng, -10.0, 10.0)
    return np.clip(np.rint(image * gain + offset), 0, 255).astype(np.uint8)


# --- the data sets --------------------------------------------------------------------------


def make_split(rng: np.random.Generator, count: int, cats: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` pictures of which ``cats`` are cats, in a shuffled order."""
    labels = np.zeros(count, dtype=np.int64)
    labels[rng.permutation(count)[:cats]] = 1
    pictures = np.empty((count, SIZE, SIZE, 3), dtype=np.uint8)
    for index, label in enumerate(labels):
        pictures[index] = _finish(rng, cat(rng) if label else non_cat(rng))
    return pictures, labels


def make_datasets(seed: int = SEED) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (x, y), "test": (x, y)}: the same arrays on every machine."""
    rng = np.random.default_rng(seed)
    return {split: make_split(rng, count, cats) for split, count, cats in SPLITS}


def h5_bytes(split: str, x: np.ndarray, y: np.ndarray) -> bytes:
    """The course's file layout; no timestamps and fixed chunks and compression, so the
    same arrays give the same bytes."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver="earliest", track_order=False) as handle:
        handle.create_dataset(
            f"{split}_set_x",
            data=x,
            chunks=(1, SIZE, SIZE, 3),
            compression="gzip",
            compression_opts=9,
            track_times=False,
        )
        handle.create_dataset(f"{split}_set_y", data=y, track_times=False)
        handle.create_dataset("list_classes", data=CLASSES, track_times=False)
    return buffer.getvalue()


def dataset_files(seed: int = SEED) -> dict[str, bytes]:
    """File name -> bytes of both data sets."""
    return {
        FILE_NAMES[split]: h5_bytes(split, x, y) for split, (x, y) in make_datasets(seed).items()
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m grader.assignments.dnn_application.dataset OUT_DIR", file=sys.stderr
        )
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in dataset_files().items():
        (out / name).write_bytes(data)
        print(f"{out / name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
