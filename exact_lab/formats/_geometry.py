"""Geometry conversions at the format edge: flat coordinate lists, ellipses, and pixel masks.

Masks become pixel-exact outlines (the union of the pixel squares), so a mask that goes out as
raster and comes back is the same set of pixels.
"""

from __future__ import annotations

import numpy as np
import shapely


def flat_from_coords(coords) -> list:
    return np.asarray(coords, dtype=float).reshape(-1).tolist()


def exterior_coords(poly) -> np.ndarray:
    """Exterior ring without the closing repeat of the first point."""
    c = np.asarray(poly.exterior.coords)
    return c[:-1] if len(c) > 1 and (c[0] == c[-1]).all() else c


def polygons_of(geom) -> list:
    if geom is None:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type == "MultiPolygon":
        return list(geom.geoms)
    return []


def exterior_rings(geom, image, fmt: str, piece: str, warnings: list) -> list[np.ndarray]:
    """The exterior rings of a (multi-)polygon, one ``piece`` (shape, line ...) each, for a format
    that has neither holes nor multi-part shapes; ``warnings`` say what was lost on ``image``."""
    polys = polygons_of(geom)
    if len(polys) > 1:
        warnings.append(f"a {len(polys)}-part polygon on {image!r} written as {len(polys)} {fmt} {piece}s")
    if any(len(p.interiors) for p in polys):
        warnings.append(f"a polygon hole on {image!r} dropped ({fmt} polygons have none)")
    return [exterior_coords(p) for p in polys]


def is_rectangle(geom) -> bool:
    if geom is None or geom.geom_type != "Polygon" or len(geom.interiors):
        return False
    if len(geom.exterior.coords) != 5:
        return False
    x0, y0, x1, y1 = geom.bounds
    area = (x1 - x0) * (y1 - y0)
    return area > 0 and abs(geom.area - area) <= 1e-9 * area + 1e-9


def ellipse_outline(geom, rotation: float = 0.0, segments: int = 72):
    """A polygon tracing the ellipse inscribed in the bounding rectangle ``geom`` (rotated about
    its centre by ``rotation`` degrees): for formats that have no ellipse."""
    x0, y0, x1, y1 = geom.bounds
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    t = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    xs, ys = rx * np.cos(t), ry * np.sin(t)
    if rotation:
        a = np.deg2rad(rotation)
        xs, ys = xs * np.cos(a) - ys * np.sin(a), xs * np.sin(a) + ys * np.cos(a)
    return shapely.Polygon(np.column_stack([cx + xs, cy + ys]))


def ellipse_from_center(cx, cy, rx, ry):
    """EXACT's convention: an ellipse is stored as its axis-aligned bounding rectangle."""
    return shapely.box(cx - abs(rx), cy - abs(ry), cx + abs(rx), cy + abs(ry))


# --- masks -------------------------------------------------------------------------------------


def mask_to_geometry(mask: np.ndarray):
    """Pixel-exact outline of a boolean (h, w) mask: union of its pixel squares (row runs)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return None
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    rs, cs = np.nonzero(d == 1)
    re, ce = np.nonzero(d == -1)
    # runs come in the same row-major order for starts and ends
    boxes = shapely.box(cs, rs, ce, rs + 1)
    geom = shapely.coverage_union_all(boxes)
    geom = shapely.simplify(geom, 0)  # drop collinear vertices left by the runs
    if geom.geom_type == "GeometryCollection":
        geom = shapely.MultiPolygon([g for g in geom.geoms if g.geom_type == "Polygon"])
    return geom


def geometry_to_mask(geom, height: int, width: int) -> np.ndarray:
    """Rasterise: a pixel is inside when its centre is (exact for pixel-aligned outlines)."""
    out = np.zeros((height, width), dtype=bool)
    if geom is None or geom.is_empty:
        return out
    x0, y0, x1, y1 = geom.bounds
    c0, r0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
    c1, r1 = min(int(np.ceil(x1)), width), min(int(np.ceil(y1)), height)
    if c1 <= c0 or r1 <= r0:
        return out
    cols = np.arange(c0, c1) + 0.5
    rows = np.arange(r0, r1) + 0.5
    xx, yy = np.meshgrid(cols, rows)
    shapely.prepare(geom)
    out[r0:r1, c0:c1] = shapely.contains_xy(geom, xx, yy)
    return out


def rle_decode(rle: dict) -> np.ndarray:
    """COCO RLE (compressed string or uncompressed list counts) -> boolean (h, w) mask."""
    from pycocotools import mask as mask_utils

    h, w = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, list):
        rle = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
    elif isinstance(counts, str):
        rle = {"size": [h, w], "counts": counts.encode("ascii")}
    return mask_utils.decode(rle).astype(bool)


def rle_encode(mask: np.ndarray) -> dict:
    """Boolean mask -> COCO compressed RLE with ``counts`` as text (JSON-safe)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}
