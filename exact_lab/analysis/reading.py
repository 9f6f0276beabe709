"""Read many patches from a slide quickly.

A read has a fixed cost besides its pixels (OpenSlide: ~0.18 ms for a 46 px crop here, while a
4096 x 150 band costs ~22 ns a pixel), so neighbouring windows are read as one block and cut apart
with numpy. A block is read only when the pixels it reads in vain cost less than the reads it
saves; sparse windows are read one by one. Reads run in threads (OpenSlide and libvips release the
GIL), and a consumer that may run in several threads at once (pasting into disjoint places of a
map) is called in them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from PIL import Image

from ..slides import open_slide

BLOCK = 1024  # level-0 pixels: windows whose centres share a block are read together
# One read's fixed cost in pixels' worth (0.18 ms / 22 ns): a block is read when its unwanted
# pixels number fewer than this per read it saves.
READ_COST_PIXELS = 8000
WORKERS = 4


def to_rgb(image) -> np.ndarray:
    """H x W x 3 uint8 from a PIL image or array; transparent pixels (outside the slide) white."""
    array = np.asarray(image)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 3:
        return array
    if array[:, :, 3].min() == 255:  # inside the slide: no compositing (a view, no arithmetic)
        return array[:, :, :3]
    rgb = array[:, :, :3].astype(np.uint16)
    alpha = array[:, :, 3:4].astype(np.uint16)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def read_window(slide, x0: int, y0: int, w: int, h: int, out_w: int | None = None, out_h: int | None = None) -> np.ndarray:
    """The level-0 window (x0, y0, w, h) as RGB, resampled to (out_w, out_h) when given and different,
    from the coarsest level that still has the detail."""
    out_w, out_h = out_w or w, out_h or h
    if (out_w, out_h) == (w, h):
        return to_rgb(slide.read_region((int(x0), int(y0)), 0, (int(w), int(h))))
    wanted = min(w / out_w, h / out_h)
    level = 0
    for index, downsample in enumerate(slide.level_downsamples):
        if downsample <= wanted * 1.01:
            level = index
    ds = slide.level_downsamples[level]
    lw, lh = max(1, math.ceil(w / ds)), max(1, math.ceil(h / ds))
    region = slide.read_region((int(x0), int(y0)), level, (lw, lh))
    region = Image.fromarray(to_rgb(region))
    return np.asarray(region.resize((int(out_w), int(out_h)), Image.Resampling.LANCZOS, box=(0, 0, w / ds, h / ds)))


def _blocks(windows: pd.DataFrame) -> list[np.ndarray]:
    """Row positions grouped into reads: a block of several unscaled windows, or single windows."""
    x0 = windows["src_x0"].to_numpy()
    y0 = windows["src_y0"].to_numpy()
    w = windows["src_w"].to_numpy()
    h = windows["src_h"].to_numpy()
    plain = (w == windows["out_w"].to_numpy()) & (h == windows["out_h"].to_numpy())
    groups: list[np.ndarray] = [np.array([i]) for i in np.nonzero(~plain)[0]]
    idx = np.nonzero(plain)[0]
    if not len(idx):
        return groups
    key = ((y0[idx] + h[idx] // 2) // BLOCK) * (1 << 31) + (x0[idx] + w[idx] // 2) // BLOCK
    order = np.argsort(key, kind="stable")
    idx, key = idx[order], key[order]
    starts = np.nonzero(np.r_[True, key[1:] != key[:-1]])[0]
    for members in np.split(idx, starts[1:]):
        if len(members) == 1:
            groups.append(members)
            continue
        bx0, by0 = x0[members].min(), y0[members].min()
        bx1, by1 = (x0[members] + w[members]).max(), (y0[members] + h[members]).max()
        unwanted = (bx1 - bx0) * (by1 - by0) - float((w[members] * h[members]).sum())
        if unwanted <= (len(members) - 1) * READ_COST_PIXELS:
            groups.append(members)
        else:
            groups.extend(np.array([i]) for i in members)
    return groups


def read_patches(path, windows: pd.DataFrame, consume: Callable[[int, np.ndarray], None], *, workers: int = WORKERS,
                 in_threads: bool = False) -> None:
    """Call ``consume(row position in windows, H x W x 3 uint8 patch)`` for every window of one
    slide, in no particular order: in the reading threads when ``in_threads`` (the consumer must be
    thread-safe), else in the calling thread."""
    slide = open_slide(path)
    x0 = windows["src_x0"].to_numpy()
    y0 = windows["src_y0"].to_numpy()
    w = windows["src_w"].to_numpy()
    h = windows["src_h"].to_numpy()
    ow = windows["out_w"].to_numpy()
    oh = windows["out_h"].to_numpy()

    def read(members: np.ndarray) -> list[tuple[int, np.ndarray]]:
        if len(members) == 1:
            i = int(members[0])
            return [(i, read_window(slide, x0[i], y0[i], w[i], h[i], ow[i], oh[i]))]
        bx0, by0 = int(x0[members].min()), int(y0[members].min())
        bx1, by1 = int((x0[members] + w[members]).max()), int((y0[members] + h[members]).max())
        block = to_rgb(slide.read_region((bx0, by0), 0, (bx1 - bx0, by1 - by0)))
        return [(int(i), block[y0[i] - by0:y0[i] - by0 + h[i], x0[i] - bx0:x0[i] - bx0 + w[i]]) for i in members]

    def read_and_consume(members: np.ndarray) -> None:
        for i, patch in read(members):
            consume(i, patch)

    groups = _blocks(windows)
    if workers <= 1 or len(groups) < 4:
        for members in groups:
            read_and_consume(members)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="exact-lab-patches") as pool:
        if in_threads:
            for _ in pool.map(read_and_consume, groups):
                pass
        else:
            for done in pool.map(read, groups):
                for i, patch in done:
                    consume(i, patch)


def read_all_patches(images: pd.DataFrame, windows: pd.DataFrame, consume: Callable[[int, np.ndarray], None],
                     *, workers: int = WORKERS, in_threads: bool = False) -> None:
    """Call ``consume(row position, patch)`` for every window, slide after slide.
    ``images`` maps image_id to path (a frame of ``proj.images()``)."""
    paths = images.set_index("image_id")["path"]
    for image_id, rows in windows.groupby("image_id", sort=False):
        positions = np.nonzero(windows["image_id"].to_numpy() == image_id)[0]
        read_patches(paths.loc[image_id], rows.reset_index(drop=True),
                     lambda local, patch, positions=positions: consume(int(positions[local]), patch),
                     workers=workers, in_threads=in_threads)
