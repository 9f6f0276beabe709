"""Classic patch features that need no weights: colour histograms and texture (scikit-image).

Per patch: 8-bin histograms of R, G and B (24), mean and spread of hue, saturation and value (6),
grey-level co-occurrence statistics at distances 1 and 2 averaged over four directions (12), and a
uniform local binary pattern histogram (10) — 52 numbers.
"""

from __future__ import annotations

import numpy as np

NAME = "classic"
# Bump when the numbers change: it names the feature cache.
VERSION = "1"
GLCM_LEVELS = 32
GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")
LBP_POINTS = 8


def _one(patch: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray, rgb2hsv
    from skimage.feature import graycomatrix, graycoprops, local_binary_pattern

    hist = [np.histogram(patch[:, :, c], bins=8, range=(0, 256))[0] for c in range(3)]
    hist = np.concatenate(hist).astype(np.float64) / (patch.shape[0] * patch.shape[1])
    hsv = rgb2hsv(patch).reshape(-1, 3)
    grey = (rgb2gray(patch) * (GLCM_LEVELS - 1) + 0.5).astype(np.uint8)
    glcm = graycomatrix(grey, distances=[1, 2], angles=[0, np.pi / 4, np.pi / 2, 3 * np.pi / 4],
                        levels=GLCM_LEVELS, symmetric=True, normed=True)
    texture = np.concatenate([graycoprops(glcm, p).mean(axis=1) for p in GLCM_PROPS])
    lbp = local_binary_pattern(grey, LBP_POINTS, 1, method="uniform")
    lbp_hist = np.bincount(lbp.astype(np.int64).ravel(), minlength=LBP_POINTS + 2)[:LBP_POINTS + 2] / lbp.size
    return np.concatenate([hist, hsv.mean(axis=0), hsv.std(axis=0), np.nan_to_num(texture), lbp_hist])


class ClassicFeatures:
    """The default feature model: a batch N x H x W x 3 uint8 -> N x 52 float32."""

    name = NAME
    version = VERSION

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([_one(p) for p in batch]).astype(np.float32)

    def __repr__(self):
        return f"ClassicFeatures(version={VERSION})"
