"""Run a model over tiles: tiles are read ahead in threads while the model runs on the batch
before, and each batch's output is turned into level-0 rows at once."""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

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


def default_model_workers(model) -> int:
    """The model's ``workers`` attribute, else one batch per core (at most 2). Two batches at once,
    each with one BLAS thread, keep both cores busy where one batch leaves a core idle in every
    single-threaded step (numpy's elementwise operations, sorting, Python) and BLAS threads would
    otherwise fight the reading threads; a model that is not thread-safe declares ``workers = 1``."""
    declared = getattr(model, "workers", None)
    if declared is not None:
        return max(1, int(declared))
    return max(1, min(2, os.cpu_count() or 1))


def blas_threads_for(model_workers: int):
    """A context giving each of ``model_workers`` concurrent batches an equal share of the cores'
    BLAS threads (threadpoolctl: process-wide, so set once around the run), or nothing for one."""
    if model_workers <= 1:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, (os.cpu_count() or 1) // model_workers), user_api="blas")


def read_tile(slide, plan: TilePlan, index: int) -> np.ndarray:
    x, y = plan.origins[index]
    side = int(round(plan.l0_tile))
    return read_window(slide, int(round(x)), int(round(y)), side, side, plan.tile_size, plan.tile_size)


def balanced_batches(tile_ids: list, batch_size: int, model_workers: int) -> list[list]:
    """``tile_ids`` cut in order into batches of at most ``batch_size``, as many batches as a
    multiple of ``model_workers`` and of sizes within one of each other, so the last round keeps
    every worker busy. Why: 81 tiles in batches of 16 for two workers left one worker alone with
    the last 16 tiles; the model's two batches at once ran only 1.34x faster than one after the
    other where balanced batches of 13-14 give each worker half the tiles."""
    count = len(tile_ids)
    if count == 0:
        return []
    n = math.ceil(count / batch_size)
    if model_workers > 1:
        n = min(count, math.ceil(n / model_workers) * model_workers)
    size, extra = divmod(count, n)
    bounds = np.cumsum([0] + [size + (1 if i < extra else 0) for i in range(n)])
    return [tile_ids[bounds[i]:bounds[i + 1]] for i in range(n)]


def run_tiles(plan: TilePlan, tile_ids, model, kind: str, *, batch_size: int = 16, readers: int = READERS,
              model_workers: int = 1, default_type: str = "object", classes=None,
              on_batch: Callable[[int, pd.DataFrame], None]) -> None:
    """Read and infer ``tile_ids`` of ``plan`` in batches; ``on_batch(tiles done, rows)`` after each,
    in order. ``model_workers`` > 1 runs that many batches through the model at once (in threads:
    for models that release the GIL and are thread-safe), each with its share of the BLAS threads
    (``blas_threads_for``). An exception (KeyboardInterrupt too)
    stops the reads and model calls still queued and propagates; what ``on_batch`` received stays
    with the caller."""
    if batch_size < 1:
        raise InvalidValueError(f"batch_size must be at least 1, got {batch_size!r}")
    slide = open_slide(plan.path)
    tile_ids = list(tile_ids)
    model_workers = max(1, int(model_workers))
    batches = deque(balanced_batches(tile_ids, batch_size, model_workers))
    reading = ThreadPoolExecutor(max(1, readers), thread_name_prefix="exact-lab-tiles")
    thinking = ThreadPoolExecutor(model_workers, thread_name_prefix="exact-lab-model") if model_workers > 1 else None
    reads: deque = deque()
    running: deque = deque()

    def read_next() -> None:
        if batches:
            ids = batches.popleft()
            reads.append((ids, [reading.submit(read_tile, slide, plan, i) for i in ids]))

    limits = blas_threads_for(model_workers)
    limits.__enter__()
    try:
        for _ in range(READ_AHEAD + model_workers):
            read_next()
        while reads or running:
            while reads and len(running) < model_workers:
                ids, futures = reads.popleft()
                batch = np.stack([f.result() for f in futures])
                read_next()
                running.append((ids, thinking.submit(call, model, batch) if thinking else call(model, batch)))
            ids, result = running.popleft()
            result = result.result() if thinking else result
            on_batch(len(ids), parse(kind, plan, ids, result, default_type=default_type, classes=classes))
    finally:
        for _, futures in reads:
            for f in futures:
                f.cancel()
        for _, pending in running:
            if thinking:
                pending.cancel()
        reading.shutdown(wait=True, cancel_futures=True)
        if thinking:
            thinking.shutdown(wait=True, cancel_futures=True)
        limits.__exit__(None, None, None)
