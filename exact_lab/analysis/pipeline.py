"""Run a model over tiles: tiles are read ahead in threads while the model runs on the batch
before, and each batch's output is turned into level-0 rows at once."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from ..slides import open_slide
from .models import call
from .outputs import parse
from .reading import read_window
from .tiling import TilePlan

READ_AHEAD = 2  # batches read while the model works on the current one
READERS = 2


def read_tile(slide, plan: TilePlan, index: int) -> np.ndarray:
    x, y = plan.origins[index]
    side = int(round(plan.l0_tile))
    return read_window(slide, int(round(x)), int(round(y)), side, side, plan.tile_size, plan.tile_size)


def run_tiles(plan: TilePlan, tile_ids, model, kind: str, *, batch_size: int = 16, readers: int = READERS,
              default_type: str = "object", classes=None, on_batch: Callable[[int, pd.DataFrame], None]) -> None:
    """Read and infer ``tile_ids`` of ``plan`` in batches; ``on_batch(tiles done, rows)`` after each.
    An exception (KeyboardInterrupt too) stops the reads still queued and propagates; what
    ``on_batch`` received stays with the caller."""
    if batch_size < 1:
        raise InvalidValueError(f"batch_size must be at least 1, got {batch_size!r}")
    slide = open_slide(plan.path)
    tile_ids = list(tile_ids)
    batches = [tile_ids[i:i + batch_size] for i in range(0, len(tile_ids), batch_size)]
    pool = ThreadPoolExecutor(max(1, readers), thread_name_prefix="exact-lab-tiles")
    queued: deque = deque()
    try:
        def submit(ids):
            queued.append((ids, [pool.submit(read_tile, slide, plan, i) for i in ids]))

        for ids in batches[:READ_AHEAD + 1]:
            submit(ids)
        upcoming = READ_AHEAD + 1
        while queued:
            ids, futures = queued.popleft()
            batch = np.stack([f.result() for f in futures])
            if upcoming < len(batches):
                submit(batches[upcoming])
                upcoming += 1
            result = call(model, batch)
            on_batch(len(ids), parse(kind, plan, ids, result, default_type=default_type, classes=classes))
    finally:
        for _, futures in queued:
            for f in futures:
                f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
