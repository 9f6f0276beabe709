"""Keeping the browser in line with the store: rows it committed (this kernel's or another's),
and edits of other viewers of the same image, become ``upsert`` and ``remove`` messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from . import encode
from .model import ViewerModel, _plain


def on_committed(model: ViewerModel, rows: pd.DataFrame) -> None:
    """The store committed ``rows``: bring the browser in line.

    Rows this viewer edited are checked against what it sent: equal means confirmed (nothing to
    send); different means the store decided otherwise, unless a newer edit of the same
    annotation is still queued in the session (then that one will be confirmed later).
    """
    if rows is not None and not rows.empty:
        keep = np.ones(len(rows), bool)
        with model.lock:
            for i, r in enumerate(rows.itertuples(index=False)):
                sent = model.sent.get(r.uuid)
                if sent is None:
                    continue
                same = (not r.deleted and _plain(r.type_id) == sent[0]
                        and shapely.equals_exact(sent[1], r.geometry, tolerance=1e-6))
                if same:
                    model.sent.pop(r.uuid, None)
                    keep[i] = False
                elif model.backend.is_pending(r.uuid):
                    keep[i] = False
                else:
                    model.sent.pop(r.uuid, None)
        push_rows(model, rows[keep], reason="committed")
    model.send("saved", pending=model.backend.pending())


def push_rows(model: ViewerModel, rows: pd.DataFrame, reason: str) -> None:
    """Send these rows' current state to the browser: upserts, and removals for deleted rows,
    rows of types the viewer does not show, and rows of another frame."""
    if rows is None or rows.empty:
        return
    shapes, coords, removed = [], [], []
    layers = model.layers
    with model.lock:
        multi_frame = (model.source.get("frames") or 1) > 1
        for r in rows.itertuples(index=False):
            key = f"t:{_plain(r.type_id)}"
            layer = layers.get(key)
            id_ = layers.id_of(str(r.uuid))
            gone = bool(getattr(r, "deleted", False)) or layer is None or (multi_frame and (getattr(r, "frame", 0) or 0) != model.frame)
            if gone:
                layers.ids.deleted.add(id_)
                if id_ in layers.ids.extra or layers.resolve(id_) is not None:
                    removed.append(id_)
                continue
            drawn = encode.shape_of(r.geometry, "box" if layer.vector_type in encode.BOX_TYPES else None)
            if drawn is None:
                continue
            kind, xy, rings = drawn
            layers.ids.deleted.discard(id_)
            layers.ids.add(id_, key, str(r.uuid))
            shape = {"id": id_, "layer": key, "kind": kind, "n": len(xy) // 2, "uuid": str(r.uuid)}
            if rings:
                shape["rings"] = rings
            shapes.append(shape)
            coords.extend(xy)
        gen = model.gen
    if shapes:
        model.send("upsert", [memoryview(np.asarray(coords, np.float64))], gen=gen, reason=reason, shapes=shapes)
    if removed:
        model.send("remove", [memoryview(np.asarray(removed, np.float64))], gen=gen)
