"""Masks as annotation files hold them, checked in one place: COCO run-length encoding (COCO's
``segmentation``, Datumaro's ``rle``) and the size of any mask a reader is about to allocate
(CVAT's and LabelMe's masks cover the whole image)."""

from __future__ import annotations

import numpy as np

from . import _geometry as G
from ._checks import integer
from ._common import fail

# A decoded mask takes a byte per pixel: a size beyond this is a damaged file, not an image.
MAX_MASK_PIXELS = 1 << 31


def check_mask_size(height: int, width: int, path, where) -> None:
    if height * width > MAX_MASK_PIXELS:
        raise fail(path, where, f"a {width}x{height} mask is larger than the {MAX_MASK_PIXELS:,} pixels a mask may have")


def mask_from_rle(rle, path, where):
    """(pixel-exact outline, compressed RLE) of a COCO RLE object, or a FormatError at ``where``."""
    if not isinstance(rle, dict) or "counts" not in rle or "size" not in rle:
        raise fail(path, where, "expected an RLE object with 'counts' and 'size'")
    size, counts = rle["size"], rle["counts"]
    if not isinstance(size, list) or len(size) != 2:
        raise fail(path, f"{where}.size", f"expected [height, width], got {str(size)[:40]}")
    height, width = (integer(v, path, f"{where}.size", what="a mask size", minimum=1) for v in size)
    check_mask_size(height, width, path, f"{where}.size")
    if isinstance(counts, list):
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise fail(path, f"{where}.counts", "expected run lengths as non-negative integers")
        if sum(counts) != height * width:
            raise fail(path, f"{where}.counts", f"run lengths add up to {sum(counts)}, expected height*width = {height * width}")
    elif not isinstance(counts, str) or not counts.isascii():
        raise fail(path, f"{where}.counts", "expected a list of run lengths or COCO's compressed text")
    try:
        mask = G.rle_decode({"size": [height, width], "counts": counts})
    except Exception as exc:  # pycocotools refuses a damaged compressed text (ValueError)
        raise fail(path, where, f"expected a valid RLE mask ({exc})") from None
    geom = G.mask_to_geometry(mask)
    if geom is None:
        raise fail(path, where, "the mask is empty")
    return geom, G.rle_encode(np.asarray(mask))
