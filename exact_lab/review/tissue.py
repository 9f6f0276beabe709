"""Where the tissue is: an Otsu threshold on a thumbnail's lightness (glass is bright and grey,
stained tissue darker or coloured), so screening can leave out tiles of empty glass."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation
from skimage.color import rgb2hsv
from skimage.filters import threshold_otsu

THUMBNAIL_SIZE = 1024


def tissue_mask(rgb: np.ndarray) -> np.ndarray:
    """Boolean mask (thumbnail pixels) of tissue. A pixel is tissue when it is darker than Otsu's
    threshold of the value channel or more saturated than Otsu's threshold of saturation; a
    one-pixel dilation keeps faint borders. A thumbnail of one colour is all tissue (nothing to tell
    apart), so nothing is skipped on a blank or uniform image by mistake."""
    hsv = rgb2hsv(np.asarray(rgb)[..., :3])
    value, saturation = hsv[..., 2], hsv[..., 1]
    if np.ptp(value) < 1e-3 and np.ptp(saturation) < 1e-3:
        return np.ones(value.shape, dtype=bool)
    dark = value < threshold_otsu(value) if np.ptp(value) >= 1e-3 else np.zeros(value.shape, bool)
    coloured = saturation > threshold_otsu(saturation) if np.ptp(saturation) >= 1e-3 else np.zeros(value.shape, bool)
    return binary_dilation(dark | coloured, iterations=1)


def tiles_with_tissue(mask: np.ndarray, grid, width: int, height: int, min_fraction: float = 0.01) -> list[int]:
    """Indices of the grid's tiles whose thumbnail area holds at least ``min_fraction`` tissue
    (and at least one tissue pixel)."""
    sy, sx = mask.shape[0] / height, mask.shape[1] / width
    keep = []
    for index in range(grid.cols * grid.rows):
        x0, y0, x1, y1 = grid.bounds(index)
        part = mask[int(y0 * sy): max(int(y0 * sy) + 1, int(np.ceil(y1 * sy))),
                    int(x0 * sx): max(int(x0 * sx) + 1, int(np.ceil(x1 * sx)))]
        if part.size and part.any() and part.mean() >= min_fraction:
            keep.append(index)
    return keep
