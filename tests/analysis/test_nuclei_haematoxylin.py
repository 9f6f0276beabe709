"""The detector's haematoxylin is scikit-image's colour deconvolution, looked up for uint8 tiles."""

import numpy as np
from skimage.color import rgb2hed

from exact_lab.analysis.nuclei import NucleusDetector, haematoxylin


def test_looked_up_haematoxylin_equals_rgb2hed():
    rng = np.random.default_rng(3)
    tile = rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)
    tile[:5] = 0  # the 1e-6 floor
    tile[5:10] = 255
    np.testing.assert_allclose(haematoxylin(tile), rgb2hed(tile)[:, :, 0], rtol=0, atol=1e-12)
    as_float = tile.astype(np.float64) / 255  # other dtypes go through rgb2hed itself
    np.testing.assert_array_equal(haematoxylin(as_float), rgb2hed(as_float)[:, :, 0])


def test_detect_finds_what_the_labels_of_its_mask_hold():
    """detect() hands its haematoxylin to labels(); the nuclei are those labels computed afresh."""
    yy, xx = np.mgrid[0:128, 0:128]
    tile = np.full((128, 128, 3), 235, np.uint8)
    for cx, cy in ((30, 30), (90, 40), (60, 100)):
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= 8 ** 2
        tile[disc] = (70, 40, 140)  # haematoxylin purple
    detector = NucleusDetector()
    boxes = detector.detect(tile)
    labels = detector.labels(tile)
    assert len(boxes) == labels.max() == 3
    assert sorted(zip(boxes.xmin, boxes.ymin)) == [(22, 22), (52, 92), (82, 32)]
