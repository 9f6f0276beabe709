"""What the kernel knows about each layer a viewer shows: the source rows, the ids the browser
uses for them, and their look.

Ids are small integers: a layer's shapes get a consecutive range when it is sent, so a chunk in
the browser needs no id column; shapes added later (drawn in the browser, or arriving from other
viewers and kernels) get single ids kept in a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .encode import Columns

BROWSER_IDS = 2**30  # ids at or above this were minted by the browser


@dataclass
class Layer:
    key: str
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
