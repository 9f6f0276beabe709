"""Inference spread over a Dask cluster: each task reads and infers a chunk of one image's tiles on
its worker and sends its rows back as Arrow (geometry as WKB); the kernel merges and writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from .pipeline import run_tiles
from .tiling import TilePlan


def to_arrow(rows: pd.DataFrame) -> bytes:
    table = pa.table({
        "tile": pa.array(rows["tile"].to_numpy(np.int64)),
        "type": pa.array(rows["type"].astype(str).to_numpy(object), pa.string()),
        "score": pa.array(rows["score"].to_numpy(float), from_pandas=True),
        "geometry": pa.array(list(shapely.to_wkb(rows["geometry"].to_numpy())), pa.binary()),
        "truncated": pa.array(rows["truncated"].to_numpy(bool)),
        "meta": pa.array([None if m is None else json.dumps(m) for m in rows["meta"]], pa.string()),
    })
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def from_arrow(data: bytes) -> pd.DataFrame:
    frame = pa.ipc.open_stream(data).read_all().to_pandas()
    geoms = shapely.from_wkb(frame["geometry"].to_numpy())
    bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
    frame["geometry"] = geoms
    frame["xmin"], frame["ymin"], frame["xmax"], frame["ymax"] = bounds.T
    frame["meta"] = [json.loads(m) if isinstance(m, str) else None for m in frame["meta"]]
    return frame


def run_chunk(plan: TilePlan, tile_ids, model, kind: str, batch_size: int, readers: int, default_type: str, classes) -> bytes:
    """A worker's task: its tiles of one image, read where it runs."""
    parts: list[pd.DataFrame] = []
    run_tiles(plan, tile_ids, model, kind, batch_size=batch_size, readers=readers, default_type=default_type,
              classes=classes, on_batch=lambda _n, rows: parts.append(rows))
    rows = pd.concat(parts, ignore_index=True) if parts else None
    if rows is None or rows.empty:
        from .outputs import empty

        rows = empty()
    return to_arrow(rows)


def chunks(plan: TilePlan, workers: int) -> list[list[int]]:
    """About two chunks per worker for one image, in reading order (neighbouring tiles together)."""
    n = len(plan)
    count = max(1, min(n, 2 * max(1, workers)))
    return [list(c) for c in np.array_split(np.arange(n), count) if len(c)]


def run_on_cluster(client, plans, model, kind, batch_size, readers, default_type, classes, rows, run, bar) -> None:
    """Submit every chunk, collect as they finish; on an interrupt cancel the rest and keep what came."""
    from distributed import as_completed

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    model_future = client.scatter(model, broadcast=True)
    futures = {}
    for plan in plans:
        for ids in chunks(plan, workers):
            future = client.submit(run_chunk, plan, ids, model_future, kind, batch_size, readers, default_type, classes,
                                   pure=False)
            futures[future] = (plan.image_id, len(ids))
    try:
        for future in as_completed(futures):
            image_id, n = futures[future]
            rows[image_id].append(from_arrow(future.result()))
            run.tiles_done += n
            bar.update(n)
    except KeyboardInterrupt:
        client.cancel([f for f in futures if not f.done()])
        raise
