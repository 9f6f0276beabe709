"""A deterministic, tissue-like demo slide written as a pyramidal TIFF by pyvips.

Pink stroma with fibre texture, purple nuclei of varied size and shape, a few dark mitosis-like
figures, on a white background with irregular tissue edges. Returns the nuclei it drew so the
demo can annotate what is really there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips

MPP = 0.25  # microns per pixel written into the TIFF


@dataclass
class Blob:
    x: float
    y: float
    rx: float
    ry: float
    angle: float
    mitotic: bool


def _smooth_noise(rng, width, height, scale, sigma) -> pyvips.Image:
    """Low-frequency noise in [0, 1] at full size: random grid, blurred, upsampled."""
    w, h = max(2, width // scale), max(2, height // scale)
    grid = rng.random((h, w)).astype(np.float32)
    small = pyvips.Image.new_from_array(grid).gaussblur(sigma)
    big = small.resize(width / w, vscale=height / h, kernel="cubic")
    big = big.crop(0, 0, min(width, big.width), min(height, big.height))
    if big.width < width or big.height < height:
        big = big.embed(0, 0, width, height, extend="copy")
    lo, hi = big.min(), big.max()
    return (big - lo) / max(hi - lo, 1e-6)


def make_demo_slide(path, width: int = 8192, height: int = 6144, seed: int = 7, n_nuclei: int = 4000):
    """Write the demo slide to ``path``; return (path, list of Blob)."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    # Tissue: where a smooth field is high, with a soft edge.
    field = _smooth_noise(rng, width, height, 256, 1.2)
    ramp = (field - 0.42) * 12
    tissue = (ramp < 0).ifthenelse(0.0, (ramp > 1).ifthenelse(1.0, ramp))
    # Stroma texture: streaky fibres from anisotropic noise.
    fibres = _smooth_noise(rng, width, height, 8, 0.8)
    shade = _smooth_noise(rng, width, height, 64, 1.0)
    stroma_r = 222 + 20 * shade - 18 * fibres
    stroma_g = 140 + 40 * shade - 40 * fibres
    stroma_b = 185 + 20 * shade - 20 * fibres
    background = 242.0

    # Nuclei inside tissue: sample centres where the field says tissue.
    low = np.ndarray(buffer=field.resize(1 / 16).write_to_memory(), dtype=np.float32,
                     shape=(field.resize(1 / 16).height, field.resize(1 / 16).width))
    blobs: list[Blob] = []
    tries = 0
    while len(blobs) < n_nuclei and tries < n_nuclei * 40:
        tries += 1
        x, y = rng.uniform(30, width - 30), rng.uniform(30, height - 30)
        ly, lx = min(int(y / 16), low.shape[0] - 1), min(int(x / 16), low.shape[1] - 1)
        if low[ly, lx] < 0.52:
            continue
        mitotic = rng.random() < 0.06
        r = rng.uniform(9, 14) if mitotic else rng.uniform(5, 10)
        blobs.append(Blob(x, y, r * rng.uniform(0.9, 1.4), r * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), mitotic))

    # Draw nuclei into a full-size mask (0..255) patch by patch.
    nuclei = np.zeros((height, width), dtype=np.uint8)
    dark = np.zeros((height, width), dtype=np.uint8)
    for b in blobs:
        reach = int(max(b.rx, b.ry) + 3)
        x0, x1 = int(b.x) - reach, int(b.x) + reach + 1
        y0, y1 = int(b.y) - reach, int(b.y) + reach + 1
        yy, xx = np.mgrid[y0:y1, x0:x1]
        dx, dy = xx - b.x, yy - b.y
        c, s = np.cos(b.angle), np.sin(b.angle)
        u, v = (dx * c + dy * s) / b.rx, (-dx * s + dy * c) / b.ry
        d = np.sqrt(u * u + v * v)
        value = np.clip((1.15 - d) * 4, 0, 1)
        grain = rng.uniform(0.75, 1.0, size=value.shape)
        target = dark if b.mitotic else nuclei
        patch = target[y0:y1, x0:x1]
        np.maximum(patch, (value * grain * 255).astype(np.uint8), out=patch)
    nuc = pyvips.Image.new_from_memory(nuclei.data, width, height, 1, "uchar").gaussblur(0.7) / 255.0
    drk = pyvips.Image.new_from_memory(dark.data, width, height, 1, "uchar").gaussblur(0.7) / 255.0

    def channel(stroma, nucleus_tone, dark_tone):
        tone = stroma * (1 - nuc) + nucleus_tone * nuc
        tone = tone * (1 - drk) + dark_tone * drk
        return background * (1 - tissue) + tone * tissue

    rgb = channel(stroma_r, 105, 60).bandjoin([channel(stroma_g, 62, 30), channel(stroma_b, 160, 95)])
    rgb = rgb.cast("uchar").copy(interpretation="srgb")
    pixels_per_mm = 1000.0 / MPP
    rgb.tiffsave(
        str(path), tile=True, tile_width=256, tile_height=256, pyramid=True, compression="jpeg", Q=88,
        xres=pixels_per_mm, yres=pixels_per_mm, resunit="cm",
    )
    return path, blobs
