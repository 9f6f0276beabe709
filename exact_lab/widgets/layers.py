"""What the kernel knows about each layer a viewer shows: the source rows, the ids the browser
uses for them, and their look.

Ids are small integers: a layer's shapes get a consecutive range when it is sent, so a chunk in
the browser needs no id column; shapes added later (drawn in the browser, or arriving from other
viewers and kernels) get single ids kept in an :class:`IdMap`. :class:`LayerSet` holds both and
answers "which row is this id" and "which id is this uuid" for every layer at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import encode
from .encode import Columns

BROWSER_IDS = 2**30  # ids at or above this were minted by the browser
STYLE_KEYS = ("visible", "opacity", "line_width", "fill_opacity", "point_radius")


@dataclass
class Layer:
    key: str  # "t:<type_id>" for an annotation type of the store, "u:<name>" for a user layer
    name: str
    source: str  # "type" (an annotation type of the store) or "user" (added from Python)
    frame: pd.DataFrame  # rows of the layer (user layers: the DataFrame given to add_layer)
    type_id: object = None
    vector_type: str | None = None
    color: str = "#e6194b"
    visible: bool = True
    opacity: float = 1.0
    editable: bool = True
    line_width: float = 1.5
    fill_opacity: float = 0.0
    point_radius: float = 4.0
    id_start: int = 0
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # row per id offset
    columns: list[Columns] = field(default_factory=list)
    _uuid_index: pd.Index | None = None

    @property
    def count(self) -> int:
        return len(self.rows)

    def meta(self, type_index: int | None = None) -> dict:
        """The layer's entry of the ``_layers`` trait (``protocol.LayerMeta``)."""
        return {
            "key": self.key, "name": self.name, "source": self.source, "type_index": type_index,
            "vector_type": self.vector_type, "color": self.color, "visible": self.visible,
            "opacity": self.opacity, "editable": self.editable, "line_width": self.line_width,
            "fill_opacity": self.fill_opacity, "point_radius": self.point_radius,
            "ellipse": self.vector_type == "ellipse", "count": self.count,
        }

    def has(self, id_: int) -> bool:
        return self.id_start <= id_ < self.id_start + len(self.rows)

    def row_of(self, id_: int) -> int:
        return int(self.rows[id_ - self.id_start])

    def uuids(self) -> np.ndarray:
        """uuid per id offset (user layers without a uuid column: the row label as text)."""
        if "uuid" in self.frame.columns:
            return self.frame["uuid"].to_numpy()[self.rows]
        return self.frame.index.to_numpy()[self.rows].astype(str)

    def ids_of(self, uuids) -> np.ndarray:
        """Ids of the given uuids in this layer (-1 where absent)."""
        if self._uuid_index is None:
            self._uuid_index = pd.Index(self.uuids())
        pos = self._uuid_index.get_indexer(list(uuids))
        return np.where(pos >= 0, pos + self.id_start, -1)


class IdMap:
    """Ids of shapes that are not (or no longer) rows of a layer's original DataFrame."""

    def __init__(self):
        self.extra: dict[int, tuple[str, str]] = {}  # id -> (layer key, uuid)
        self.by_uuid: dict[str, int] = {}
        self.deleted: set[int] = set()

    def add(self, id_: int, layer: str, uuid: str) -> None:
        self.extra[id_] = (layer, uuid)
        self.by_uuid[uuid] = id_

    def clear(self) -> None:
        self.extra.clear()
        self.by_uuid.clear()
        self.deleted.clear()


class LayerSet:
    """The layers of one viewer in drawing order, and the mapping between browser ids and uuids."""

    def __init__(self):
        self.layers: dict[str, Layer] = {}
        self.ids = IdMap()
        self.next_id = 0

    def __iter__(self):
        return iter(self.layers.values())

    def __contains__(self, key: str) -> bool:
        return key in self.layers

    def get(self, key: str) -> Layer | None:
        return self.layers.get(key)

    def user_layers(self) -> list[Layer]:
        return [layer for layer in self.layers.values() if layer.source == "user"]

    def reset(self) -> list[Layer]:
        """Forget every layer and id; returns the user layers, to be placed again."""
        user = self.user_layers()
        self.layers = {}
        self.ids.clear()
        self.next_id = 0
        return user

    def place(self, layer: Layer, l0_extent: tuple[float, float, float, float]) -> None:
        """Order each kind of shape spatially, give the layer its range of ids, and hold it."""
        cols = []
        for c in layer.columns:
            # always, not only above one chunk: the browser culls by slices of consecutive shapes,
            # which are compact only in this order (unordered, every slice spans the slide and a
            # full-resolution view drew all of them)
            if len(c) > 1:
                c = encode.reorder(c, encode.spatial_order(c.bounds, l0_extent))
            cols.append(c)
        layer.columns = cols
        layer.id_start = self.next_id
        layer.rows = np.concatenate([c.rows for c in cols]) if cols else np.zeros(0, np.int64)
        layer._uuid_index = None
        self.next_id += len(layer.rows) + 1
        self.layers[layer.key] = layer

    def remove(self, key: str) -> Layer:
        return self.layers.pop(key)

    # -- ids --------------------------------------------------------------------------------------
    def resolve(self, id_: int) -> tuple[str, str] | None:
        """(layer key, uuid) of an id, or None."""
        hit = self.ids.extra.get(id_)
        if hit is not None:
            return hit
        for layer in self.layers.values():
            if layer.has(id_):
                row = layer.row_of(id_)
                f = layer.frame
                uuid = f["uuid"].iat[row] if "uuid" in f.columns else str(f.index[row])
                return layer.key, str(uuid)
        return None

    def resolve_many(self, ids) -> list[tuple[str, str]]:
        """(layer key, uuid) of many ids at once (a box selection can hold a million)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = []
        rest = np.ones(len(ids), bool)
        extra = self.ids.extra
        if extra:  # shapes added or re-typed since the layers were sent win
            hit = np.isin(ids, np.fromiter(extra.keys(), np.int64, len(extra)))
            out.extend(extra[int(i)] for i in ids[hit])
            rest &= ~hit
        for layer in self.layers.values():
            if not layer.count:
                continue
            inside = rest & (ids >= layer.id_start) & (ids < layer.id_start + layer.count)
            if inside.any():
                uuids = layer.uuids()[ids[inside] - layer.id_start]
                out.extend((layer.key, str(u)) for u in uuids)
                rest &= ~inside
        return out

    def ids_of_many(self, uuids: list[str]) -> np.ndarray:
        """Ids of many uuids (-1 where the viewer does not show them)."""
        out = np.full(len(uuids), -1, np.int64)
        if self.ids.by_uuid:
            hits = pd.Series(uuids, dtype=object).map(self.ids.by_uuid)
            out = np.where(hits.notna(), hits.fillna(-1), -1).astype(np.int64)
        for layer in self.layers.values():
            missing = out < 0
            if not missing.any():
                break
            if layer.count:
                found = layer.ids_of(np.asarray(uuids, dtype=object)[missing])
                out[np.nonzero(missing)[0]] = found
        return out

    def id_of(self, uuid: str, allocate: bool = True) -> int | None:
        """The id of one uuid; a fresh one when the viewer does not show it yet (or None)."""
        hit = self.ids.by_uuid.get(uuid)
        if hit is not None:
            return hit
        for layer in self.layers.values():
            if layer.count:
                i = int(layer.ids_of([uuid])[0])
                if i >= 0:
                    return i
        if not allocate:
            return None
        i = self.next_id
        self.next_id += 1
        return i
