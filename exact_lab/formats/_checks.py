"""Values as annotation files state them, checked where they are read: numbers, sizes, names,
coordinates and shapes, each refused with a FormatError that names the file, the place and what
was expected (``number``, ``checked_box``, ``polygon`` ...); and ``check_parsed``, which every
parsed file passes before anyone uses it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ._common import Parsed, fail, is_missing


def number(value, path, where, *, what="a number") -> float:
    """float(value) or a FormatError naming where the non-number sits."""
    if isinstance(value, bool):
        raise fail(path, where, f"expected {what}, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        raise fail(path, where, f"expected {what}, got {str(value)[:40]!r}") from None
    if not np.isfinite(out):
        raise fail(path, where, f"expected a finite number, got {str(value)[:40]!r}")
    return out


# Largest image side and frame number a file may state: the store keeps them as 32-bit integers.
MAX_INT32 = 2**31 - 1


def integer(value, path, where, *, what="an integer", minimum=0, maximum=MAX_INT32) -> int:
    """int(value) for a whole number in [minimum, maximum], or a FormatError naming where."""
    out = number(value, path, where, what=what)
    if not out.is_integer() or not minimum <= out <= maximum:
        raise fail(path, where, f"expected {what} from {minimum} to {maximum}, got {str(value)[:40]!r}")
    return int(out)


def image_size(value, path, where) -> int | None:
    """An image width or height as a file states it: absent (None, "", 0) or a positive integer."""
    if is_missing(value) or (isinstance(value, str) and not value.strip()) or value == 0:
        return None
    return integer(value, path, where, what="an image size in pixels", minimum=1)


def text(value, path, where, *, what="a text") -> str | None:
    """A string field (a name, a description): None stays None, numbers become their text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise fail(path, where, f"expected {what}, got {type(value).__name__} {str(value)[:40]}")


# Pixel coordinates beyond this lie outside any image the store can hold (its sizes are 32-bit
# integers); bounding them also keeps widths, areas and centres from overflowing to inf.
MAX_COORDINATE = float(2**31)
_PIXELS = f"finite numbers within ±{MAX_COORDINATE:.0f}"


def plausible(values) -> np.ndarray:
    """Per value: a finite pixel coordinate within ±MAX_COORDINATE."""
    arr = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(arr) & (np.abs(arr) <= MAX_COORDINATE)


def checked_box(path, where, x0, y0, x1, y1):
    """A box whose corners are pixel coordinates and whose width and height are positive (also
    after the arithmetic that made the corners: 1e308 + 1e308 is inf, and 1e21 + 3 is 1e21)."""
    corners = np.array([x0, y0, x1, y1], dtype=float)
    if not (plausible(corners).all() and corners[2] > corners[0] and corners[3] > corners[1]):
        shown = ", ".join(f"{v:g}" for v in corners)
        raise fail(path, where, f"expected a box with finite corners ({_PIXELS}) and positive width and height, "
                   f"got ({shown})")
    return shapely.box(*corners)


def points(value, path, where, *, minimum=1) -> np.ndarray:
    """(n, 2) finite coordinates from [[x, y], ...] or a flat [x, y, x, y, ...], n >= minimum."""
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise fail(path, where, f"expected a list of coordinates, got {type(value).__name__}")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise fail(path, where, "expected numbers as coordinates") from None
    if arr.ndim == 1 and arr.size % 2 == 0:
        arr = arr.reshape(-1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise fail(path, where, "expected [x, y] pairs (or a flat list of an even count)")
    if not plausible(arr).all():
        raise fail(path, where, f"expected finite coordinates ({_PIXELS})")
    if len(arr) < minimum:
        raise fail(path, where, f"expected at least {minimum} point(s), got {len(arr)}")
    return arr


def json_object(value, path, where) -> dict:
    """An optional JSON object: absent is empty, anything but an object is an error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(path, where, f"expected an object, got {type(value).__name__}")
    return value


def polygon(rings, path, where):
    """A polygon (a multi-polygon for several exterior rings) whose every part encloses an area:
    repeated or collinear points are refused here, naming their place, not later by the store."""
    parts = [shapely.Polygon(np.asarray(r, dtype=float)) for r in rings]
    if not all(p.area > 0 for p in parts):  # (NaN area, from an overflow, fails too)
        raise fail(path, where, "expected a polygon of at least three points that enclose an area")
    geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return finite_geometry(geom, path, where)


def finite_geometry(geom, path, where):
    """``geom`` if every coordinate is finite (scaling or offsets can overflow), else an error."""
    if geom is not None and not plausible(shapely.get_coordinates(geom)).all():
        raise fail(path, where, f"expected coordinates that stay {_PIXELS}")
    return geom


def check_parsed(parsed: Parsed, path) -> Parsed:
    """What every reader's result must hold before anyone uses it: pixel coordinates and names (the
    readers check them where they parse; this names the annotation for any they did not), and
    something to import from a folder or dataset (a single file that holds no annotation imports
    nothing, with a warning saying so)."""
    _check_coordinates(parsed, path)
    _check_names(parsed, path)
    if len(parsed.lazy_annotations) or parsed.skipped:
        return parsed
    if parsed.searched:
        raise fail(path, None, f"no annotations found: {parsed.searched}")
    parsed.warnings.append(f"{Path(path).name} holds no annotations")
    return parsed


def _check_coordinates(parsed: Parsed, path) -> None:
    ann = parsed.lazy_annotations
    if parsed.boxes is not None:
        bad = ~plausible(parsed.boxes).all(axis=1)
        rows = np.flatnonzero(bad)
    else:
        geoms = ann["geometry"].to_numpy(dtype=object)
        present = np.flatnonzero([g is not None for g in geoms])
        coords, index = shapely.get_coordinates(geoms[present], return_index=True)
        rows = present[np.unique(index[~plausible(coords).all(axis=1)])]
    if len(rows):
        i = int(rows[0])
        raise fail(path, f"annotation #{i + 1} (image {ann['image'].iloc[i]!r}, class {ann['type'].iloc[i]!r})",
                   f"expected pixel coordinates, {_PIXELS}")


def _check_names(parsed: Parsed, path) -> None:
    """Image and class names are non-empty text without NUL characters (which no file system and
    no SQL string takes); checked per distinct name, so a million rows cost a handful of checks."""
    ann = parsed.lazy_annotations
    for column, what in (("image", "an image name"), ("type", "a class name")):
        values = ann[column].to_numpy(dtype=object)
        if not all(_good_name(n) for n in pd.unique(values)):
            i = next(i for i, v in enumerate(values) if not _good_name(v))
            raise fail(path, f"annotation #{i + 1}", f"expected {what} (text without NUL characters), got {values[i]!r}")
    for name in parsed.images["name"]:
        if not _good_name(name):
            raise fail(path, "images", f"expected image names (text without NUL characters), got {name!r}")


def _good_name(name) -> bool:
    return isinstance(name, str) and bool(name) and "\0" not in name
